// The built-in student as a TorchScript module of its own: its weights as parameters and its
// forward pass as TorchScript source, so that torch.jit.load in Python (or a TorchScript
// Teacher) runs it without Distillery. The source spells out the built-in Transformer's
// computation (models/transformer.cpp, models/llama.cpp) with TorchScript's builtin operators.

#include "export/writers.h"

#include "distillery/core/errors.h"
#include "distillery/core/files.h"
#include "models/llama.h"
#include "models/transformer.h"
#include "torchio.h"

#include <torch/script.h>

#include <spdlog/spdlog.h>

#include <algorithm>
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

// The Llama-family decoder (models/llama.cpp) in TorchScript, one layer after the other with
// its own weights; biases and the sliding window where the model has them.
std::string llamaSource(const models::LlamaSpec &s, const std::vector<std::string> &names)
{
    auto has = [&](const std::string &n) { return std::find(names.begin(), names.end(), n) != names.end(); };
    std::ostringstream src;
    src << std::setprecision(17);
    const std::int64_t H = s.heads, KV = s.kvHeads, hd = s.headDim;
    src << "def _rms(self, x: Tensor, w: Tensor) -> Tensor:\n"
           "    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + " << s.rmsEps << ") * w\n"
           "def _rot(self, x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:\n"
           "    return x * cos + torch.cat([-x[..., " << hd / 2 << ":], x[..., :" << hd / 2 << "]], -1) * sin\n"
           "def forward(self, tokens: Tensor) -> Tensor:\n"
           "    B = tokens.size(0)\n"
           "    T = tokens.size(1)\n"
           "    assert T <= " << s.maxLen << ", \"the model reads at most " << s.maxLen << " tokens\"\n"
           "    x = torch.embedding(self.embed, tokens)\n"
           "    inv = 1.0 / torch.pow(" << s.ropeTheta << ", torch.arange(0, " << hd
        << ", 2, device=tokens.device).float() / " << hd << ".0)\n"
           "    ang = torch.outer(torch.arange(T, device=tokens.device).float(), inv)\n"
           "    emb = torch.cat([ang, ang], -1)\n"
           "    cos = emb.cos().to(x.dtype)\n"
           "    sin = emb.sin().to(x.dtype)\n"
           "    mask = torch.triu(torch.full([T, T], float(\"-inf\"), dtype=x.dtype, device=x.device), 1)\n";
    if (s.slidingWindow > 0)
        src << "    mask = mask + torch.tril(torch.full([T, T], float(\"-inf\"), dtype=x.dtype, device=x.device), -"
            << s.slidingWindow << ")\n";
    auto lin = [&](const std::string &x, const std::string &layer, const std::string &w, const std::string &b) {
        const std::string weight = layer + "_" + w;
        return has(layer + "_" + b) ? "torch.linear(" + x + ", self." + weight + ", self." + layer + "_" + b + ")"
                                    : "torch.linear(" + x + ", self." + weight + ")";
    };
    for (std::int64_t i = 0; i < s.layers; ++i) {
        const std::string l = "layer" + std::to_string(i);
        src << "    h = self._rms(x, self." << l << "_attn_norm)\n"
            << "    q = self._rot(" << lin("h", l, "q_proj", "q_bias") << ".view(B, T, " << H << ", " << hd
            << ").transpose(1, 2), cos, sin)\n"
            << "    k = self._rot(" << lin("h", l, "k_proj", "k_bias") << ".view(B, T, " << KV << ", " << hd
            << ").transpose(1, 2), cos, sin)\n"
            << "    v = " << lin("h", l, "v_proj", "v_bias") << ".view(B, T, " << KV << ", " << hd << ").transpose(1, 2)\n";
        if (KV != H)
            src << "    k = k.repeat_interleave(" << H / KV << ", 1)\n"
                << "    v = v.repeat_interleave(" << H / KV << ", 1)\n";
        src << "    att = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) * " << 1.0 / std::sqrt(double(hd))
            << " + mask, -1)\n"
            << "    ctx = torch.matmul(att, v).transpose(1, 2).reshape(B, T, " << H * hd << ")\n"
            << "    x = x + " << lin("ctx", l, "o_proj", "o_bias") << "\n"
            << "    h = self._rms(x, self." << l << "_mlp_norm)\n"
            << "    x = x + " << lin("torch.silu(" + lin("h", l, "gate_proj", "gate_bias") + ") * " + lin("h", l, "up_proj", "up_bias"), l, "down_proj", "down_bias")
            << "\n";
    }
    src << "    return torch.matmul(self._rms(x, self.norm), self." << (s.tiedHead ? "embed" : "head") << ".t())\n";
    return src.str();
}

// The module's parameters as TorchScript parameters of `scripted`, in the export's dtype.
std::vector<std::string> registerWeights(torch::jit::Module &scripted, const torch::nn::Module &module,
                                         torch::ScalarType dtype)
{
    std::vector<std::string> names;
    for (const auto &item : module.named_parameters()) {
        names.push_back(attribute(item.key()));
        scripted.register_parameter(names.back(), item.value().detach().to(torch::kCPU).to(dtype).contiguous(), false);
    }
    return names;
}

} // namespace

Status writeTorchScript(const std::string &path, const models::CausalLm &model, const ExportFacts &facts)
{
    auto module = models::builtinModule(model);
    auto llama = models::llamaModule(model);
    if (!module && !llama)
        return Status::failure(errc::kExportUnsupported,
                               "only the built-in Transformers can be written as TorchScript; this "
                               "student is " + model.describe() + ": export it as hf");
    std::ostringstream bytes;
    try {
        torch::NoGradGuard noGrad;
        const auto dtype = torchScalarType(facts.dtype);
        torch::jit::Module scripted("DistilleryStudent");
        const auto names = registerWeights(scripted, module ? static_cast<torch::nn::Module &>(*module) : *llama, dtype);
        // The longest input, for tools that read it (distillery-cli model, model.max_length in Python).
        scripted.register_attribute("max_length", c10::IntType::get(),
                                    module ? module->shape().maxLen : llama->spec().maxLen);
        scripted.define(module ? source(module->shape()) : llamaSource(llama->spec(), names));
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
