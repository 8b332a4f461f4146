// The node kinds of the experiment graph: ports, parameters, ranges and descriptions.
// This table is the single source of truth for the validator, the trainer's compiler, the JSON
// loader and the GUI's palette and inspector.

#include "distillery/core/graph.h"
#include "distillery/core/losskinds.h"


namespace distillery::core {

namespace {

ParamSpec intParam(std::string name, std::int64_t def, double lo, double hi, std::string unit,
                   std::string description)
{
    ParamSpec p;
    p.name = std::move(name);
    p.type = ParamType::Int;
    p.defaultValue = def;
    p.minimum = lo;
    p.maximum = hi;
    p.unit = std::move(unit);
    p.description = std::move(description);
    return p;
}

ParamSpec floatParam(std::string name, double def, double lo, double hi, std::string unit,
                     std::string description)
{
    ParamSpec p;
    p.name = std::move(name);
    p.type = ParamType::Float;
    p.defaultValue = def;
    p.minimum = lo;
    p.maximum = hi;
    p.unit = std::move(unit);
    p.description = std::move(description);
    return p;
}

ParamSpec boolParam(std::string name, bool def, std::string description)
{
    ParamSpec p;
    p.name = std::move(name);
    p.type = ParamType::Bool;
    p.defaultValue = def;
    p.description = std::move(description);
    return p;
}

std::vector<std::string> lossKindNames()
{
    std::vector<std::string> names;
    for (const auto &k : lossKinds())
        names.push_back(k.name);
    return names;
}

ParamSpec enumParam(std::string name, std::string def, std::vector<std::string> choices,
                    std::string description)
{
    ParamSpec p;
    p.name = std::move(name);
    p.type = ParamType::Enum;
    p.defaultValue = std::move(def);
    p.choices = std::move(choices);
    p.description = std::move(description);
    return p;
}

ParamSpec stringParam(std::string name, std::string def, std::string description,
                      ParamType type = ParamType::String)
{
    ParamSpec p;
    p.name = std::move(name);
    p.type = type;
    p.defaultValue = std::move(def);
    p.description = std::move(description);
    return p;
}

PortSpec port(std::string name, PortType type, std::string description, bool required = false,
              bool multiple = false)
{
    return PortSpec{std::move(name), type, required, multiple, std::move(description)};
}


std::vector<ParamSpec> architectureParams(std::int64_t layers, std::int64_t dModel,
                                          std::int64_t heads, std::int64_t ffn)
{
    return {
        enumParam("architecture", "gpt", {"gpt", "llama"},
                  "gpt: GPT-2's blocks (LayerNorm, learned positions, GELU); llama: Llama's "
                  "(RMSNorm, rotary positions, grouped-query attention, SwiGLU, no biases)."),
        intParam("vocab", 0, 0, 1 << 20, "tokens",
                 "Vocabulary size; 0 = the dataset's vocabulary. A different value is an error."),
        intParam("layers", layers, 1, 64, "", "Transformer blocks."),
        intParam("d_model", dModel, 8, 8192, "", "Hidden size of the residual stream."),
        intParam("heads", heads, 1, 128, "", "Attention heads; must divide d_model."),
        intParam("kv_heads", 0, 0, 128, "",
                 "llama: key/value heads (grouped-query attention); must divide heads; 0 = heads."),
        intParam("ffn", ffn, 8, 65536, "", "Hidden size of each feed-forward block."),
        floatParam("rope_theta", 10000.0, 100.0, 1e8, "", "llama: base of the rotary position frequencies."),
        boolParam("tie_embeddings", false,
                  "The output head reuses the token embedding matrix (weight tying, as GPT-2)."),
    };
}

std::vector<NodeKindSpec> buildKinds()
{
    std::vector<NodeKindSpec> kinds;

    {
        NodeKindSpec k;
        k.kind = "Dataset";
        k.category = "Data";
        k.singleton = true;
        k.description = "Training and validation sequences: a synthetic oracle language with "
                        "exact next-token distributions, or a text/JSONL corpus as bytes or "
                        "through a subword tokenizer (GPT-2, Llama, Mistral, Qwen2).";
        k.outputs = {port("tokens", PortType::Tokens, "Input token ids [B,T]"),
                     port("labels", PortType::Labels, "Next-token targets [B,T]")};
        k.params = {
            enumParam("source", "oracle-hmm", {"oracle-hmm", "text", "jsonl"},
                      "oracle-hmm: seeded hidden-Markov language with a known oracle; text: a "
                      "UTF-8 file; jsonl: one JSON object per line."),
            stringParam("path", "", "Corpus file for text/jsonl sources.", ParamType::Path),
            stringParam("text_field", "text", "JSONL field holding the document text."),
            enumParam("tokenizer", "bytes", {"bytes", "teacher", "file"},
                      "How text/jsonl corpora become tokens. bytes: one token per byte (V = 256); "
                      "teacher: the tokenizer of the Hugging Face teacher's folder; file: the "
                      "tokenizer in tokenizer_path. Subword tokenizers: GPT-2, Llama 3 and Qwen2 "
                      "byte-level BPE, Llama 2 / Mistral SentencePiece BPE (tokenizer.json), and "
                      "SentencePiece models (tokenizer.model)."),
            stringParam("tokenizer_path", "", "tokenizer.json or tokenizer.model, or a folder with "
                        "one of them or with vocab.json and merges.txt (tokenizer = file).", ParamType::Path),
            intParam("vocab", 64, 4, 65536, "tokens",
                     "Oracle vocabulary size (byte corpora always use 256)."),
            intParam("hidden_states", 32, 2, 4096, "states", "Hidden states of the oracle HMM."),
            floatParam("concentration", 0.05, 0.001, 10.0, "",
                       "Dirichlet concentration of the oracle's rows; smaller = peakier."),
            intParam("train_sequences", 2048, 1, 10000000, "sequences",
                     "Oracle training sequences (each seq_len+1 tokens)."),
            intParam("validation_sequences", 128, 1, 1000000, "sequences",
                     "Oracle validation sequences."),
            floatParam("validation_fraction", 0.1, 0.0, 0.5, "",
                       "Corpus share held out for validation (chosen by seed)."),
            intParam("seed", 1234, 0, 2147483647, "", "Seed of the oracle and of the split."),
        };
        kinds.push_back(k);
    }
    {
        NodeKindSpec k;
        k.kind = "Teacher";
        k.category = "Models";
        k.description = "A frozen model whose outputs the student learns from: trained in this "
                        "experiment first, loaded from a checkpoint, a TorchScript file or a Hugging "
                        "Face folder.";
        k.inputs = {port("tokens", PortType::Tokens, "Token ids to score", true)};
        k.outputs = {port("logits", PortType::Logits, "Next-token logits [B,T,V]"),
                     port("hidden", PortType::Hidden, "Hidden states of every layer [B,T,D]")};
        k.params = {
            enumParam("source", "train", {"train", "checkpoint", "torchscript", "hf"},
                      "train: train it on the dataset first, then freeze it; checkpoint: a "
                      "saved built-in model; torchscript: a scripted module returning logits; "
                      "hf: a Hugging Face model folder (gpt2, llama, mistral or qwen2, safetensors)."),
            stringParam("path", "", "Checkpoint (.pt), TorchScript file or Hugging Face folder.",
                        ParamType::Path),
            enumParam("precision", "fp32", {"fp32", "bf16", "fp16"},
                      "Weights of the frozen teacher during distillation: bf16 or fp16 halve its "
                      "memory (its outputs are widened to float32 for the losses); fp16 needs CUDA, "
                      "bf16 runs anywhere; not for TorchScript teachers."),
        };
        for (auto &p : architectureParams(4, 128, 4, 512))
            k.params.push_back(p);
        k.params.push_back(intParam("train_steps", 1000, 0, 10000000, "steps",
                                    "Training steps when source = train."));
        k.params.push_back(floatParam("train_lr", 3e-3, 1e-7, 1.0, "",
                                      "Peak AdamW learning rate when source = train."));
        kinds.push_back(k);
    }
    {
        NodeKindSpec k;
        k.kind = "Student";
        k.category = "Models";
        k.singleton = true;
        k.description = "The model being trained: a decoder-only Transformer LM.";
        k.inputs = {port("tokens", PortType::Tokens, "Token ids", true)};
        k.outputs = {port("logits", PortType::Logits, "Next-token logits [B,T,V]"),
                     port("hidden", PortType::Hidden, "Hidden states of every layer [B,T,D]")};
        k.params = architectureParams(2, 64, 4, 256);
        k.params.insert(
            k.params.begin(),
            {enumParam("init", "scratch", {"scratch", "teacher-layers", "hf"},
                       "scratch: fresh weights of the architecture below; teacher-layers: the "
                       "teacher's embeddings, head and every init_stride-th layer (as DistilBERT), "
                       "its architecture taken from the teacher (trained in the graph or a Hugging Face "
                       "folder); hf: the weights of a Hugging Face folder (init_path)."),
             stringParam("init_path", "", "init = hf: a Hugging Face gpt2, llama, mistral or qwen2 folder.",
                         ParamType::Path),
             intParam("init_stride", 2, 1, 64, "layers",
                      "init = teacher-layers: keep the teacher's layers 0, k, 2k, ... (k = this).")});
        kinds.push_back(k);
    }
    {
        NodeKindSpec k;
        k.kind = "Projection";
        k.category = "Models";
        k.description = "Learned linear adapter between hidden sizes (trained with the student).";
        k.inputs = {port("hidden", PortType::Hidden, "Hidden states to project", true)};
        k.outputs = {port("hidden", PortType::Hidden, "Projected hidden states")};
        k.params = {
            intParam("out_dim", 0, 0, 65536, "",
                     "Output size; 0 = the size of the hidden states it is compared with."),
            boolParam("bias", true, "Learn a bias."),
        };
        kinds.push_back(k);
    }
    {
        NodeKindSpec k;
        k.kind = "Loss";
        k.category = "Losses";
        k.description = "One distillation or supervised term; its weight and schedule live here.";
        k.inputs = {
            port("student", PortType::Logits, "Student logits"),
            port("teacher", PortType::Logits, "Teacher logits (divergence terms)"),
            port("labels", PortType::Labels, "Targets (cross-entropy)"),
            port("student_hidden", PortType::Hidden, "Student hidden states (hidden terms)"),
            port("teacher_hidden", PortType::Hidden, "Teacher hidden states (hidden terms)"),
        };
        k.outputs = {port("loss", PortType::Scalar, "Weighted scalar term")};
        k.params = {
            enumParam("kind", "forward-kl", lossKindNames(),
                      "The objective; see the loss inspector for its value and gradient."),
            floatParam("weight", 1.0, 0.0, 10000.0, "", "Weight of this term in the sum."),
            enumParam("weight_schedule", "constant", {"constant", "linear"},
                      "constant, or a linear ramp from weight to weight_end."),
            floatParam("weight_end", 1.0, 0.0, 10000.0, "", "Weight at the end of the ramp."),
            floatParam("temperature", 1.0, 0.05, 100.0, "",
                       "Softmax temperature tau; every tempered divergence is scaled by tau^2 (Hinton)."),
            enumParam("temperature_schedule", "constant", {"constant", "linear"},
                      "constant, or a linear ramp from temperature to temperature_end."),
            floatParam("temperature_end", 1.0, 0.05, 100.0, "", "Temperature at the ramp's end."),
            intParam("schedule_steps", 0, 0, 100000000, "steps",
                     "Length of the linear ramps; 0 = the whole run."),
            floatParam("beta", 0.5, 0.0, 1.0, "",
                       "Generalized JSD mixture: beta=0 is forward KL(p_T||p_S), beta=1 is "
                       "reverse KL(p_S||p_T)."),
            floatParam("alpha", 0.1, 0.0, 1.0, "",
                       "Skew KL mixing: the other side is alpha*p + (1-alpha)*q."),
            floatParam("label_smoothing", 0.0, 0.0, 0.999, "", "Cross-entropy label smoothing."),
            intParam("top_k", 16, 1, 65536, "tokens", "Cached teacher logits per position."),
            floatParam("taid_start", 0.4, 0.0, 1.0, "", "TAID interpolation t at step 0."),
            floatParam("taid_end", 1.0, 0.0, 1.0, "", "TAID t reached by the end of the run."),
            floatParam("taid_alpha", 5e-3, 0.0, 1.0, "", "TAID adaptive step size."),
            floatParam("taid_momentum", 0.99, 0.0, 0.9999, "",
                       "TAID momentum of the relative loss change."),
            intParam("student_layer", -1, -1, 1024, "",
                     "Hidden layer of the student (-1 = last, 0 = embeddings)."),
            intParam("teacher_layer", -1, -1, 1024, "",
                     "Hidden layer of the teacher (-1 = last, 0 = embeddings)."),
        };
        kinds.push_back(k);
    }
    {
        NodeKindSpec k;
        k.kind = "Combine";
        k.category = "Losses";
        k.description = "Sum of the weighted terms connected to it (each term's weight and "
                        "schedule are on its Loss node).";
        k.inputs = {port("terms", PortType::Scalar, "Loss terms", true, true)};
        k.outputs = {port("loss", PortType::Scalar, "Total loss")};
        k.params = {floatParam("scale", 1.0, 0.0, 10000.0, "", "Multiplies the sum.")};
        kinds.push_back(k);
    }
    {
        NodeKindSpec k;
        k.kind = "Optimizer";
        k.category = "Training";
        k.singleton = true;
        k.description = "Minimises the loss connected to it over the student (and projections).";
        k.inputs = {port("loss", PortType::Scalar, "Objective to minimise", true)};
        k.params = {
            enumParam("kind", "adamw", {"adamw", "sgd"}, "AdamW (decoupled decay) or SGD."),
            floatParam("lr", 3e-3, 1e-8, 10.0, "", "Peak learning rate."),
            floatParam("weight_decay", 0.01, 0.0, 1.0, "", "Decoupled weight decay."),
            floatParam("beta1", 0.9, 0.0, 0.99999, "", "AdamW beta1."),
            floatParam("beta2", 0.999, 0.0, 0.99999999, "", "AdamW beta2."),
            floatParam("momentum", 0.9, 0.0, 0.99999, "", "SGD momentum."),
            intParam("warmup_steps", 20, 0, 100000000, "steps", "Linear warm-up from 0."),
            enumParam("lr_schedule", "cosine", {"cosine", "constant", "linear"},
                      "Decay after warm-up."),
            floatParam("min_lr_ratio", 0.1, 0.0, 1.0, "", "Final LR as a fraction of the peak."),
            floatParam("grad_clip", 1.0, 0.0, 1e6, "", "Clip the global gradient norm; 0 = off."),
        };
        kinds.push_back(k);
    }
    {
        NodeKindSpec k;
        k.kind = "Settings";
        k.category = "Training";
        k.singleton = true;
        k.description = "Run settings: length, batch, evaluation, checkpoints, device, threads.";
        k.params = {
            intParam("steps", 300, 1, 100000000, "steps", "Student training steps."),
            intParam("batch_size", 16, 1, 65536, "sequences", "Sequences per step."),
            intParam("seq_len", 64, 2, 65536, "tokens", "Tokens per sequence."),
            intParam("eval_interval", 50, 0, 100000000, "steps",
                     "Evaluate every N steps (0 = only at the end)."),
            intParam("eval_batches", 4, 1, 100000, "batches", "Validation batches per evaluation."),
            intParam("checkpoint_interval", 100, 0, 100000000, "steps",
                     "Save a checkpoint every N steps (0 = only at the end)."),
            enumParam("device", "auto", {"auto", "cpu", "cuda"},
                      "auto picks CUDA when available."),
            intParam("threads", 0, 0, 1024, "threads",
                     "CPU threads for LibTorch; 0 = one per physical core."),
            intParam("seed", 0, 0, 2147483647, "", "Seed of initialisation, batches, sampling."),
            floatParam("on_policy_fraction", 0.0, 0.0, 1.0, "",
                       "Share of batches where the student samples continuations of prompts "
                       "and the divergences are taken on its own tokens (GKD's lambda)."),
            intParam("prompt_len", 8, 1, 65536, "tokens", "Prompt length for on-policy batches."),
            floatParam("sample_temperature", 1.0, 0.05, 10.0, "",
                       "Temperature of on-policy sampling."),
        };
        kinds.push_back(k);
    }
    {
        NodeKindSpec k;
        k.kind = "Diagnostics";
        k.category = "Training";
        k.singleton = true;
        k.description = "What the run measures besides the losses, at the evaluations: "
                        "calibration of student and teacher, per-token alignment on probe "
                        "sequences (logit and parameter space), the diversity of the student's "
                        "samples and the teacher-hacking monitor. Without this node the defaults "
                        "apply.";
        k.params = {
            boolParam("enabled", true, "Compute the diagnostics at the evaluations."),
            intParam("interval", 0, 0, 100000000, "steps",
                     "Per-token alignment and diversity run at an evaluation only when at "
                     "least this many steps have passed since they last ran; 0 = at every "
                     "evaluation. Calibration and the teacher-hacking monitor follow every "
                     "evaluation."),
            intParam("probe_samples", 4, 0, 1024, "sequences",
                     "Validation sequences whose every position is analysed and stored."),
            intParam("param_tokens", 8, 0, 4096, "tokens",
                     "Positions of the first probe sequence whose gradient alignment is also "
                     "measured in parameter space (two backward passes each); 0 = off."),
            enumParam("param_scope", "last-block", {"head", "last-block", "all"},
                      "Student parameters of the parameter-space alignment: the output head "
                      "(with the final LayerNorm), also the last Transformer block, or all."),
            boolParam("calibration", true,
                      "Calibration (ECE, MCE, Brier, reliability bins) of student and teacher "
                      "on the evaluation tokens."),
            intParam("diversity_prompts", 8, 0, 4096, "prompts",
                     "Validation prompts the student continues for the diversity measures "
                     "(0 = off)."),
            intParam("diversity_length", 32, 1, 65536, "tokens",
                     "Tokens sampled per prompt (capped by seq_len - prompt_len)."),
            floatParam("diversity_temperature", 1.0, 0.05, 10.0, "",
                       "A second sampling temperature besides 1 (diag/diversity_temp/...)."),
        };
        kinds.push_back(k);
    }
    return kinds;
}

} // namespace

const std::vector<NodeKindSpec> &nodeKinds()
{
    static const std::vector<NodeKindSpec> kinds = buildKinds();
    return kinds;
}

const NodeKindSpec *findNodeKind(const std::string &kind)
{
    for (const auto &k : nodeKinds())
        if (k.kind == kind)
            return &k;
    return nullptr;
}

const PortSpec *NodeKindSpec::input(const std::string &name) const
{
    for (const auto &p : inputs)
        if (p.name == name)
            return &p;
    return nullptr;
}

const PortSpec *NodeKindSpec::output(const std::string &name) const
{
    for (const auto &p : outputs)
        if (p.name == name)
            return &p;
    return nullptr;
}

const ParamSpec *NodeKindSpec::param(const std::string &name) const
{
    for (const auto &p : params)
        if (p.name == name)
            return &p;
    return nullptr;
}

} // namespace distillery::core
