// The built-in student as a TorchScript module of its own: its weights as parameters and its
// forward pass as TorchScript source, so that torch.jit.load in Python (or a TorchScript
// Teacher) runs it without Distillery. The source spells out the built-in Transformer's
// computation (models/transformer.cpp) with TorchScript's builtin operators.

#include "export/writers.h"

#include "distillery/core/errors.h"
#include "distillery/core/files.h"
#include "models/transformer.h"
#include "torchio.h"

#include <torch/script.h>

#include <spdlog/spdlog.h>

#include <cmath>
#include <iomanip>
#include <sstream>

namespace distillery::core::exports {

namespace {

// "block3.qkv.weight" -> "block3_qkv_weight": TorchScript attribute names have no dots.
std::string attribute(std::string name)
{
    for (char &c : name)
        if (c == '.')
            c = '_';
    return name;
}

std::string source(const ModelShape &s)
{
    std::ostringstream src;
    src << std::setprecision(17);
    const double scale = 1.0 / std::sqrt(double(s.dModel / s.heads));
    src << "def _ln(self, x: Tensor, w: Tensor, b: Tensor) -> Tensor:\n"
           "    return torch.layer_norm(x, [x.size(-1)], w, b, 1e-05)\n"
           "def _linear(self, x: Tensor, w: Tensor, b: Tensor) -> Tensor:\n"
           "    return torch.linear(x, w, b)\n"
           "def _block(self, x: Tensor, mask: Tensor, ln1_w: Tensor, ln1_b: Tensor, qkv_w: Tensor, "
           "qkv_b: Tensor, proj_w: Tensor, proj_b: Tensor, ln2_w: Tensor, ln2_b: Tensor, "
           "fc1_w: Tensor, fc1_b: Tensor, fc2_w: Tensor, fc2_b: Tensor) -> Tensor:\n"
           "    B = x.size(0)\n"
           "    T = x.size(1)\n"
           "    D = x.size(2)\n"
           "    H = " << s.heads << "\n"
           "    qkv = self._linear(self._ln(x, ln1_w, ln1_b), qkv_w, qkv_b).view(B, T, 3, H, D // H)"
           ".permute(2, 0, 3, 1, 4)\n"
           "    att = torch.softmax(torch.matmul(qkv[0], qkv[1].transpose(-2, -1)) * " << scale
        << " + mask, -1)\n"
           "    ctx = torch.matmul(att, qkv[2]).transpose(1, 2).reshape(B, T, D)\n"
           "    x = x + self._linear(ctx, proj_w, proj_b)\n"
           "    h = self._linear(self._ln(x, ln2_w, ln2_b), fc1_w, fc1_b)\n"
           "    h = 0.5 * h * (1.0 + torch.erf(h * 0.70710678118654752))\n"
           "    return x + self._linear(h, fc2_w, fc2_b)\n"
           "def forward(self, tokens: Tensor) -> Tensor:\n"
           "    T = tokens.size(1)\n"
           "    assert T <= " << s.maxLen << ", \"the model reads at most " << s.maxLen << " tokens\"\n"
           "    positions = torch.arange(T, device=tokens.device)\n"
           "    x = torch.embedding(self.tok_weight, tokens) + "
           "torch.embedding(self.pos_weight, positions).unsqueeze(0)\n"
           "    mask = torch.triu(torch.full([T, T], float(\"-inf\"), dtype=x.dtype, device=x.device), 1)\n";
    for (std::int64_t i = 0; i < s.layers; ++i) {
        const std::string b = "self.block" + std::to_string(i) + "_";
        src << "    x = self._block(x, mask";
        for (const char *part : {"ln1", "qkv", "proj", "ln2", "fc1", "fc2"})
            src << ", " << b << part << "_weight, " << b << part << "_bias";
        src << ")\n";
    }
    src << "    return torch.matmul(self._ln(x, self.lnf_weight, self.lnf_bias), self."
        << (s.tiedHead ? "tok_weight" : "head_weight") << ".t())\n";
    return src.str();
}

} // namespace

Status writeTorchScript(const std::string &path, const models::CausalLm &model, const ExportFacts &facts)
{
    auto module = models::builtinModule(model);
    if (!module)
        return Status::failure(errc::kExportUnsupported,
                               "only the built-in Transformer can be written as TorchScript; this "
                               "student is " + model.describe());
    std::ostringstream bytes;
    try {
        torch::NoGradGuard noGrad;
        const auto dtype = torchScalarType(facts.dtype);
        torch::jit::Module scripted("DistilleryStudent");
        for (const auto &item : module->named_parameters())
            scripted.register_parameter(attribute(item.key()),
                                        item.value().detach().to(torch::kCPU).to(dtype).contiguous(),
                                        false);
        // The longest input, for tools that read it (distillery-cli model, model.max_length in Python).
        scripted.register_attribute("max_length", c10::IntType::get(), module->shape().maxLen);
        scripted.define(source(module->shape()));
        scripted.eval();
        scripted.save(bytes);
    } catch (const std::exception &e) {
        // TorchScript's compile errors start with an empty line and quote the source.
        std::string text = e.what();
        spdlog::debug("TorchScript export: {}", text);
        text.erase(0, text.find_first_not_of("\n "));
        if (const auto nl = text.find('\n'); nl != std::string::npos)
            text.resize(nl);
        return Status::failure(errc::kInternal, path + ": cannot build the TorchScript module: " + text);
    }
    return writeFileAtomically(path, bytes.str());
}

} // namespace distillery::core::exports
