// The built-in students (GPT-style and Llama-style) as ONNX: their weights as float32 arrays in
// MatMul's layout, handed to the LibTorch-free writers (onnxio/gptonnx.h).

#include "export/writers.h"

#include "distillery/core/errors.h"
#include "models/llama.h"
#include "models/transformer.h"
#include "onnxio/gptonnx.h"
#include "torchio.h"

#include <algorithm>

namespace distillery::core::exports {

namespace {

std::string docString(const ExportFacts &facts)
{
    return "Distillery student of run " + std::to_string(facts.run.id) + " ('" + facts.run.name + "') after "
           + std::to_string(facts.step) + " steps";
}

// Every parameter as float32 on the CPU, Linear weights [out, in] transposed to MatMul's right
// operand [in, out] (embedding tables stay), and a tied head as the embedding's transpose.
Status matmulWeights(const torch::nn::Module &module, const std::vector<std::string> &tables,
                     const std::string &tiedFrom, const std::string &headName, std::vector<torch::Tensor> &keep,
                     std::map<std::string, onnxio::WeightView> &weights)
{
    auto add = [&](const std::string &name, torch::Tensor t) {
        keep.push_back(t.contiguous());
        weights[name] = {keep.back().data_ptr<float>(),
                         std::vector<std::int64_t>(keep.back().sizes().begin(), keep.back().sizes().end())};
    };
    try {
        torch::NoGradGuard noGrad;
        for (const auto &item : module.named_parameters()) {
            torch::Tensor t = item.value().detach().to(torch::kCPU, torch::kFloat);
            const bool table = std::find(tables.begin(), tables.end(), item.key()) != tables.end();
            add(item.key(), t.dim() == 2 && !table ? t.t() : t);
        }
        if (!tiedFrom.empty())
            add(headName, module.named_parameters()[tiedFrom].detach().to(torch::kCPU, torch::kFloat).t());
    } catch (const std::exception &e) {
        return Status::failure(errc::kInternal, "cannot convert the student's weights: " + torchErrorText(e));
    }
    return okStatus();
}

} // namespace

Status writeOnnx(const std::string &path, const models::CausalLm &model, const ExportFacts &facts,
                 std::uint64_t externalDataAbove)
{
    std::vector<torch::Tensor> keep;
    std::map<std::string, onnxio::WeightView> weights;
    if (auto llama = models::llamaModule(model)) {
        const models::LlamaSpec &sp = llama->spec();
        if (auto st = matmulWeights(*llama, {"embed"}, sp.tiedHead ? "embed" : "", "head", keep, weights); !st.ok())
            return st;
        onnxio::LlamaOnnxShape s;
        s.vocab = sp.vocab;
        s.layers = sp.layers;
        s.hidden = sp.hidden;
        s.heads = sp.heads;
        s.kvHeads = sp.kvHeads;
        s.headDim = sp.headDim;
        s.ffn = sp.ffn;
        s.maxLen = sp.maxLen;
        s.ropeTheta = sp.ropeTheta;
        s.rmsEps = sp.rmsEps;
        s.slidingWindow = sp.slidingWindow;
        return onnxio::writeLlamaOnnx(path, s, weights, docString(facts), externalDataAbove);
    }
    auto module = models::builtinModule(model);
    if (!module)
        return Status::failure(errc::kExportUnsupported,
                               "only the built-in Transformers can be written as ONNX; this student is "
                                   + model.describe() + ": export it as hf");
    if (auto st = matmulWeights(*module, {"tok.weight", "pos.weight"}, module->shape().tiedHead ? "tok.weight" : "",
                                "head.weight", keep, weights);
        !st.ok())
        return st;
    return onnxio::writeGptOnnx(path, module->shape(), weights, docString(facts), externalDataAbove);
}

} // namespace distillery::core::exports
