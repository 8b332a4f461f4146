// The built-in student as ONNX: its weights as float32 arrays in MatMul's layout, handed to the
// LibTorch-free writer (onnxio/gptonnx.h).

#include "export/writers.h"

#include "distillery/core/errors.h"
#include "models/transformer.h"
#include "onnxio/gptonnx.h"
#include "torchio.h"

namespace distillery::core::exports {

Status writeOnnx(const std::string &path, const models::CausalLm &model, const ExportFacts &facts,
                 std::uint64_t externalDataAbove)
{
    auto module = models::builtinModule(model);
    if (!module)
        return Status::failure(errc::kExportUnsupported,
                               "ONNX is written for gpt students only; this student is " + model.describe()
                                   + ": export it as hf (Hugging Face) or torchscript");
    std::vector<torch::Tensor> keep;
    std::map<std::string, onnxio::WeightView> weights;
    try {
        torch::NoGradGuard noGrad;
        for (const auto &item : module->named_parameters()) {
            const std::string &name = item.key();
            torch::Tensor t = item.value().detach().to(torch::kCPU, torch::kFloat);
            // Linear weights [out, in] become MatMul's right operand [in, out]; embeddings stay.
            const bool linear = t.dim() == 2 && name != "tok.weight" && name != "pos.weight";
            if (linear)
                t = t.t();
            t = t.contiguous();
            keep.push_back(t);
            weights[name] = {t.data_ptr<float>(), std::vector<std::int64_t>(t.sizes().begin(), t.sizes().end())};
        }
        // A tied head: the embedding transposed, as an initializer of its own.
        if (module->shape().tiedHead) {
            auto t = module->named_parameters()["tok.weight"].detach().to(torch::kCPU, torch::kFloat).t().contiguous();
            keep.push_back(t);
            weights["head.weight"] = {t.data_ptr<float>(), std::vector<std::int64_t>(t.sizes().begin(), t.sizes().end())};
        }
    } catch (const std::exception &e) {
        return Status::failure(errc::kInternal, "cannot convert the student's weights: " + torchErrorText(e));
    }
    return onnxio::writeGptOnnx(path, module->shape(), weights,
                                "Distillery student of run " + std::to_string(facts.run.id) + " ('"
                                    + facts.run.name + "') after " + std::to_string(facts.step) + " steps",
                                externalDataAbove);
}

} // namespace distillery::core::exports
