// The model card: README.md with the front matter the Hugging Face Hub reads (library,
// pipeline, tags, datasets, model-index with the final evaluation), then what the student is,
// how to load it, how it was trained (objective with formulas and weights, data, settings),
// its final metrics beside the teacher's and a summary of the diagnostics.

#include "render/svgplot.h"
#include "export/writers.h"
#include "hf/hfconfig.h"
#include "render/svgrender.h"

#include "distillery/core/files.h"

#include "distillery/core/losskinds.h"
#include "distillery/core/models.h"

#include <cmath>
#include <iomanip>
#include <optional>
#include <sstream>
#include <tuple>

namespace distillery::core::exports {

using render::lineChartSvg;
using render::PlotSeries;

namespace {

std::string number(double v, int precision = 4)
{
    std::ostringstream s;
    s << std::fixed << std::setprecision(precision) << v;
    return s.str();
}

// YAML's double-quoted scalar.
std::string quoted(const std::string &text)
{
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\')
            out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out + "\"";
}

std::optional<double> metric(const ExportFacts &f, const std::string &key)
{
    auto it = f.latest.find(key);
    if (it == f.latest.end() || !std::isfinite(it->second.value))
        return std::nullopt;
    return it->second.value;
}

std::string datasetName(const ExportFacts &f)
{
    const auto &d = f.plan.dataset;
    if (d.source == "oracle-hmm")
        return "synthetic oracle HMM (vocabulary " + std::to_string(d.vocab) + ", "
               + std::to_string(d.hiddenStates) + " hidden states, seed " + std::to_string(d.seed) + ")";
    const auto slash = d.path.rfind('/');
    return (slash == std::string::npos ? d.path : d.path.substr(slash + 1)) + " (" + d.source + ")";
}

std::string schedule(const train::Schedule &s)
{
    if (!s.linear)
        return number(s.start, 3);
    return number(s.start, 3) + " → " + number(s.end, 3) + " over " + std::to_string(s.steps) + " steps";
}

void frontMatter(std::ostringstream &out, const ExportFacts &f)
{
    out << "---\n"
        << "library_name: " << (f.format == "hf" ? "transformers" : f.format == "onnx" ? "onnx" : "pytorch") << "\n"
        << "pipeline_tag: text-generation\n";
    // base_model: the teachers that name a Hugging Face model (their config's _name_or_path).
    std::vector<std::string> bases;
    for (const auto &t : f.plan.teachers)
        if (t.source == "hf")
            if (auto config = hf::readHfConfig(t.path); config.ok() && !config.value().name.empty())
                bases.push_back(config.value().name);
    if (!bases.empty()) {
        out << "base_model:\n";
        for (const auto &b : bases)
            out << "- " << quoted(b) << "\n";
    }
    out
        << "tags:\n- distillation\n- knowledge-distillation\n- distillery\n";
    if (!f.run.templateName.empty())
        out << "- " << quoted(f.run.templateName) << "\n";
    out << "datasets:\n- " << quoted(datasetName(f)) << "\n";
    const std::tuple<const char *, const char *, const char *> metrics[] = {
        {"eval/student_nll", "nll", "validation NLL (nats/token)"},
        {"eval/student_acc", "accuracy", "next-token accuracy"},
        {"eval/kl_teacher_student", "kl_teacher", "KL(teacher ‖ student)"},
        {"eval/kl_oracle_student", "kl_oracle", "KL(oracle ‖ student)"},
        {"eval/calibration/student/ece", "ece", "expected calibration error"}};
    std::ostringstream rows;
    for (const auto &[key, type, name] : metrics)
        if (auto v = metric(f, key))
            rows << "      - type: " << type << "\n"
                 << "        name: " << quoted(name) << "\n"
                 << "        value: " << number(*v, 6) << "\n";
    if (!rows.str().empty())
        out << "model-index:\n"
            << "- name: " << quoted(f.run.name) << "\n"
            << "  results:\n"
            << "  - task:\n      type: text-generation\n      name: Text generation\n"
            << "    dataset:\n      type: " << quoted(f.plan.dataset.source) << "\n"
            << "      name: " << quoted(datasetName(f)) << "\n"
            << "      split: validation\n"
            << "    metrics:\n"
            << rows.str();
    out << "---\n\n";
}

void usage(std::ostringstream &out, const ExportFacts &f)
{
    out << "## Use it\n\n";
    if (f.format == "hf") {
        out << "```python\n"
               "from transformers import AutoModelForCausalLM, AutoTokenizer\n"
               "model = AutoModelForCausalLM.from_pretrained(\"path/to/this/folder\")\n"
               "tokenizer = AutoTokenizer.from_pretrained(\"path/to/this/folder\")\n"
            << (f.tokens != "words" ? "ids = tokenizer(\"Once upon a time\", return_tensors=\"pt\").input_ids\n"
                                    : "ids = tokenizer(\"t1 t5 t2\", return_tensors=\"pt\").input_ids\n")
            << "logits = model(ids).logits  # [1, T, " << f.plan.student.vocab << "]\n"
            << "```\n\n";
    } else if (f.format == "onnx") {
        out << "```python\n"
               "import numpy as np, onnxruntime\n"
               "session = onnxruntime.InferenceSession(\"model.onnx\")\n"
               "logits = session.run([\"logits\"], {\"input_ids\": np.array([[1, 2, 3]], dtype=np.int64)})[0]"
               "  # [1, 3, " << f.plan.student.vocab << "]\n"
               "```\n\n";
    } else {
        out << "```python\n"
               "import torch\n"
               "model = torch.jit.load(\"model.pt\")\n"
               "tokens = torch.tensor([[1, 2, 3]])\n"
               "logits = model(tokens)  # [1, 3, " << f.plan.student.vocab << "]\n"
               "```\n\n";
    }
    out << (f.tokens == "subword"
                ? "Tokens are " + f.plan.dataset.tokenizer->kind() + " pieces, the tokenizer the run used (`"
                      + f.plan.dataset.tokenizerPath + "`), copied beside this card"
                      + (f.plan.dataset.tokenizer->special().addBos
                             ? "; every sequence starts with `" + f.plan.dataset.tokenizer->special().bos + "`"
                             : std::string())
                      + ".\n\n"
            : f.tokens == "bytes"
                ? "Tokens are bytes: the id of a token is the byte's value (0–255); "
                  "`tokenizer.json` encodes UTF-8 text byte by byte.\n\n"
                : "Tokens are the oracle's symbols `t0` … `t" + std::to_string(f.plan.student.vocab - 1)
                      + "`, written separated by spaces.\n\n")
        << "The student reads at most " << f.plan.student.maxLen << " tokens.\n\n";
}

void training(std::ostringstream &out, const ExportFacts &f)
{
    const auto &p = f.plan;
    out << "## How it was trained\n\n"
        << "Objective: the sum of these terms, each times its weight"
        << (p.combineScale != 1.0 ? ", times " + number(p.combineScale, 3) : std::string()) << ".\n\n"
        << "| term | kind | per-position loss | weight | temperature |\n| --- | --- | --- | --- | --- |\n";
    for (const auto &t : p.terms) {
        const LossKind *kind = findLossKind(t.kind);
        out << "| " << t.label << " | " << t.kind << " | " << (kind ? kind->formula : "") << " | "
            << schedule(t.weight) << " | "
            << (kind && kind->usesTemperature ? schedule(t.temperature) : "–") << " |\n";
    }
    out << "\nTeachers:";
    if (p.teachers.empty())
        out << " none.\n";
    for (const auto &t : p.teachers) {
        out << "\n- " << t.label << ": ";
        if (t.source == "train")
            out << "a built-in Transformer (" << describeModel(t.shape, p.seqLen)
                << ") trained in the run for " << t.trainSteps << " steps";
        else
            out << t.source << " `" << t.path << "`";
    }
    out << "\n\nData: " << (f.meta.count("dataset") ? f.meta.at("dataset") : datasetName(f)) << ".\n\n"
        << "| setting | value |\n| --- | --- |\n"
        << "| student | "
        << (p.studentInit.kind == "hf"               ? "initialised from the Hugging Face folder `" + p.studentInit.path + "`, "
            : p.studentInit.kind == "teacher-layers" ? "initialised from the teacher's layers 0, "
                                                           + std::to_string(p.studentInit.stride) + ", "
                                                           + std::to_string(2 * p.studentInit.stride) + ", …; "
                                                     : std::string())
        << (p.studentInit.kind == "scratch" ? "built-in " : "")
        << (p.student.family == ModelFamily::Llama ? "Llama-style" : "GPT-style")
        << " Transformer, " << p.student.layers
        << (p.student.layers == 1 ? " layer" : " layers") << ", d_model " << p.student.dModel
        << ", " << p.student.heads << " heads"
        << (p.student.family == ModelFamily::Llama && p.student.keyValueHeads() != p.student.heads
                ? " over " + std::to_string(p.student.keyValueHeads()) + " key/value heads"
                : std::string())
        << ", FFN " << p.student.ffn
        << (p.student.tiedHead ? ", head tied to the embedding" : "") << ", " << describeModel(p.student, p.seqLen)
        << " |\n"
        << "| steps | " << f.step << " of " << p.steps << " |\n"
        << "| batch | " << p.batchSize << " sequences of " << p.seqLen << " tokens |\n"
        << "| optimizer | " << p.optimizer.kind << ", lr " << p.optimizer.lr << ", " << p.optimizer.schedule
        << " schedule, " << p.optimizer.warmupSteps << " warm-up steps, weight decay "
        << p.optimizer.weightDecay << ", gradient clip " << p.optimizer.gradClip << " |\n"
        << "| on-policy fraction | " << p.onPolicyFraction << " |\n"
        << "| seed | " << p.seed << " |\n"
        << "| exported as | " << f.format << ", " << torchDtypeName(f.dtype) << " |\n\n"
        << "`distillery-graph.json` beside this card is the experiment as it ran: "
           "`distillery-cli run distillery-graph.json --store runs.sqlite` trains it again.\n\n";
}

void results(std::ostringstream &out, const ExportFacts &f)
{
    const std::pair<const char *, const char *> rows[] = {
        {"NLL (nats/token)", "nll"}, {"next-token accuracy", "acc"}};
    out << "## Final evaluation (validation split, step "
        << (f.latest.count("eval/student_nll") ? std::to_string(f.latest.at("eval/student_nll").step) : "-")
        << ")\n\n| metric | student | teacher |\n| --- | --- | --- |\n";
    auto cell = [&](const std::string &key) {
        auto v = metric(f, key);
        return v ? number(*v) : std::string("–");
    };
    for (const auto &[name, key] : rows)
        out << "| " << name << " | " << cell(std::string("eval/student_") + key) << " | "
            << cell(std::string("eval/teacher_") + key) << " |\n";
    out << "| KL(oracle ‖ model) | " << cell("eval/kl_oracle_student") << " | "
        << cell("eval/kl_oracle_teacher") << " |\n"
        << "| expected calibration error | " << cell("eval/calibration/student/ece") << " | "
        << cell("eval/calibration/teacher/ece") << " |\n";
    if (auto kl = metric(f, "eval/kl_teacher_student"))
        out << "\nKL(teacher ‖ student): " << number(*kl) << ".";
    if (auto o = metric(f, "eval/oracle_nll"))
        out << " The oracle's own NLL, the floor any model can reach: " << number(*o) << ".";
    out << "\n\n## Diagnostics\n\n";
    bool any = false;
    if (auto r = metric(f, "diag/diversity/entropy_ratio")) {
        any = true;
        out << "- Entropy of the student's next-token distributions over the teacher's: " << number(*r, 3)
            << (*r < 0.9 ? " (sharper than its teacher)" : *r > 1.1 ? " (flatter than its teacher)" : "")
            << ".\n";
    }
    if (auto c = metric(f, "diag/align/grad_cosine")) {
        any = true;
        out << "- Cosine between the objective's gradient and the ideal one (towards the "
            << (f.plan.dataset.source == "oracle-hmm" ? "oracle" : "true next token")
            << ") on the probe sequences: " << number(*c, 3) << ".\n";
    }
    if (auto d = metric(f, "diag/diversity/distinct2")) {
        any = true;
        out << "- Distinct bigrams in the student's samples: " << number(*d, 3) << ".\n";
    }
    if (f.meta.count("teacher_hacking_step")) {
        any = true;
        out << "- Teacher hacking flagged after step " << f.meta.at("teacher_hacking_step")
            << ": KL(oracle ‖ student) rose while KL(teacher ‖ student) kept falling.\n";
    } else if (metric(f, "eval/kl_oracle_student")) {
        any = true;
        out << "- No teacher hacking flagged.\n";
    }
    if (!any)
        out << "No diagnostics were recorded for this run.\n";
    out << "\n";
}

void curves(std::ostringstream &out, const ExportFacts &f)
{
    if (f.plots.empty())
        return;
    out << "## Curves\n\n";
    for (const auto &[file, caption] : f.plots)
        out << "![" << caption << "](" << file << ")\n\n";
    out << "Each plot is also beside this card as SVG (the same name, `.svg`).\n\n";
}

} // namespace

Status writeCardPlots(const std::string &dir, ExportFacts &f)
{
    auto series = [&](const std::string &key, const std::string &label) {
        PlotSeries s;
        s.label = label;
        if (auto it = f.series.find(key); it != f.series.end())
            for (const auto &p : it->second) {
                s.x.push_back(double(p.step));
                s.y.push_back(p.value);
            }
        return s;
    };
    const std::tuple<const char *, const char *, const char *, std::vector<PlotSeries>> charts[] = {
        {"curves-loss", "Training loss (the objective)", "loss", {series("train/loss", "train/loss")}},
        {"curves-evaluation", "Validation NLL", "nats per token",
         {series("eval/student_nll", "student"), series("eval/teacher_nll", "teacher"),
          series("eval/oracle_nll", "oracle (the floor)")}},
        {"curves-kl", "Divergences on the validation split", "KL (nats per token)",
         {series("eval/kl_teacher_student", "KL(teacher ‖ student)"),
          series("eval/kl_oracle_student", "KL(oracle ‖ student)")}}};
    // Each chart twice: SVG (vector, real text) and the PNG the card shows, drawn from it at
    // twice its size for high-DPI screens.
    for (const auto &[name, title, yLabel, lines] : charts) {
        const std::string svg = lineChartSvg(title, "step", yLabel, lines);
        if (svg.empty())
            continue;
        const std::string file = dir + "/" + name;
        if (auto st = writeFileAtomically(file + ".svg", svg); !st.ok())
            return st;
        auto png = render::svgToPng(svg, 2.0, file + ".svg");
        if (!png.ok())
            return png.error();
        if (auto st = writeFileAtomically(file + ".png", png.value()); !st.ok())
            return st;
        f.plots.emplace_back(std::string(name) + ".png", title);
    }
    return okStatus();
}

std::string modelCard(const ExportFacts &f)
{
    std::ostringstream out;
    frontMatter(out, f);
    out << "# " << f.run.name << "\n\n"
        << "A student language model distilled with Distillery (run " << f.run.id
        << (f.run.templateName.empty() ? std::string() : ", template `" + f.run.templateName + "`")
        << "), after " << f.step << " of " << f.plan.steps << " training steps. "
        << (f.format == "hf" && f.plan.studentInit.kind != "scratch"
                ? std::string("Hugging Face layout of the model it started from (`config.json` says which).")
            : f.format == "hf" ? (f.plan.student.family == ModelFamily::Llama
                                      ? std::string("Hugging Face `LlamaForCausalLM` layout: RMSNorm, rotary positions "
                                                    "(`rope_theta` in config.json), grouped-query attention, SwiGLU, no "
                                                    "biases, ")
                                      : std::string("Hugging Face `GPT2LMHeadModel` layout: pre-LayerNorm blocks, learned "
                                                    "positions, exact GELU (`activation_function: gelu`), "))
                                 + std::string(f.plan.student.tiedHead ? "the output head tied to the token embedding "
                                                                         "(`tie_word_embeddings: true`)."
                                                                       : "an untied output head (`lm_head.weight`).")
            : f.format == "onnx" ? "An ONNX model (opset 17): `input_ids` int64 [batch, sequence] to "
                                   "`logits` [batch, sequence, vocabulary], both dimensions dynamic."
                                 : "A TorchScript module: `forward(tokens)` maps int64 token ids [batch, "
                                   "sequence] to logits [batch, sequence, vocabulary].")
        << "\n\n";
    usage(out, f);
    training(out, f);
    results(out, f);
    curves(out, f);
    return out.str();
}

} // namespace distillery::core::exports
