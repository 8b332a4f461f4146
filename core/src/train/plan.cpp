#include "train/plan.h"
#include "distillery/core/errors.h"
#include "hf/hfconfig.h"

#include <algorithm>
#include <filesystem>
#include <cmath>
#include <set>

namespace distillery::core::train {

double Schedule::at(std::int64_t step) const
{
    if (!linear || steps <= 0)
        return linear ? end : start;
    const double f = std::clamp(double(step) / double(steps), 0.0, 1.0);
    return start + (end - start) * f;
}

// Linear warm-up from 0 to the peak over warmupSteps, then constant, linear or cosine decay to
// minLrRatio * peak at the last step (cosine: Loshchilov & Hutter 2017, SGDR).
double OptimizerPlan::lrAt(std::int64_t step, std::int64_t totalSteps) const
{
    if (warmupSteps > 0 && step < warmupSteps)
        return lr * double(step + 1) / double(warmupSteps);
    if (schedule == "constant")
        return lr;
    const double span = double(std::max<std::int64_t>(1, totalSteps - warmupSteps));
    const double progress = std::clamp(double(step - warmupSteps) / span, 0.0, 1.0);
    const double floor = lr * minLrRatio;
    if (schedule == "linear")
        return lr - (lr - floor) * progress;
    return floor + (lr - floor) * 0.5 * (1.0 + std::cos(M_PI * progress));
}

const TeacherPlan *Plan::teacher(NodeId id) const
{
    for (const auto &t : teachers)
        if (t.node == id)
            return &t;
    return nullptr;
}

bool Plan::needsStudentHidden() const
{
    return std::any_of(terms.begin(), terms.end(),
                       [](const TermPlan &t) { return t.studentHidden.model != kInvalidNode; });
}

bool Plan::needsTeacherHidden(NodeId teacher) const
{
    return std::any_of(terms.begin(), terms.end(),
                       [&](const TermPlan &t) { return t.teacherHidden.model == teacher; });
}

bool Plan::needsTopkCache() const
{
    return std::any_of(terms.begin(), terms.end(),
                       [](const TermPlan &t) { return t.needs().needsTopk; });
}

Result<Graph> applyOverrides(const Graph &graph, const RunOptions &options)
{
    Graph g = graph;
    auto settings = g.nodesOfKind("Settings");
    if (settings.empty())
        return g; // validation reports the missing node
    const NodeId id = settings.front()->id;
    auto set = [&](const std::string &name, const ParamValue &value) -> Status {
        auto st = g.setParam(id, name, value);
        if (!st.ok())
            return Status::failure(errc::kBadOption, "--" + name + ": " + st.error().message);
        return okStatus();
    };
    if (options.steps) {
        if (auto st = set("steps", *options.steps); !st.ok())
            return st.error();
    }
    if (options.device) {
        if (auto st = set("device", *options.device); !st.ok())
            return st.error();
    }
    if (options.threads) {
        if (auto st = set("threads", std::int64_t(*options.threads)); !st.ok())
            return st.error();
    }
    if (options.seed) {
        if (auto st = set("seed", *options.seed); !st.ok())
            return st.error();
    }
    return g;
}

namespace {

// A label no other node of the set has: its wish, else wish#id, else wish#id.2, .3, ... A title
// such as "kd#5" can never collide with the label made for a second "kd" (node 5): labels
// name series in the store, so two nodes must never share one.
std::string uniqueLabel(std::set<std::string> &taken, const std::string &wish, NodeId id)
{
    std::string label = wish;
    for (int n = 1; !taken.insert(label).second; ++n)
        label = wish + "#" + std::to_string(id) + (n > 1 ? "." + std::to_string(n) : "");
    return label;
}

std::string labelOf(const Graph &g, const Node &n, const std::string &fallback)
{
    return n.title.empty() ? fallback + std::to_string(n.id) : n.title;
}

ModelShape shapeOf(const Graph &g, NodeId id, std::int64_t vocab, std::int64_t maxLen)
{
    return architectureShape(g, id, vocab, maxLen);
}

// Follows a hidden-state input back through at most one Projection to its model.
Result<HiddenSource> traceHidden(const Graph &g, NodeId loss, const std::string &port, int layer,
                                 const Plan &plan, std::int64_t otherSize)
{
    HiddenSource h;
    h.layer = layer;
    const Node *src = g.source(loss, port);
    if (!src)
        return Result<HiddenSource>::failure(errc::kInvalidInput, g.describeNode(loss) + ": input '" + port
                                                            + "' is not connected");
    if (src->kind == "Projection") {
        h.projection = src->id;
        h.projectionOut = g.paramInt(src->id, "out_dim");
        h.projectionBias = g.paramBool(src->id, "bias");
        if (h.projectionOut == 0)
            h.projectionOut = otherSize;
        src = g.source(src->id, "hidden");
        if (!src)
            return Result<HiddenSource>::failure(errc::kInvalidInput,
                                                 g.describeNode(h.projection)
                                                     + ": input 'hidden' is not connected");
    }
    if (src->kind != "Student" && src->kind != "Teacher")
        return Result<HiddenSource>::failure(errc::kInvalidInput, g.describeNode(loss) + ": input '" + port
                                                            + "' must come from a Student or "
                                                              "Teacher (through at most one "
                                                              "Projection)");
    h.model = src->id;
    h.isStudent = src->kind == "Student";
    return h;
}

} // namespace

Result<Plan> compilePlan(const Graph &g)
{
    auto issues = validateGraph(g);
    if (!issues.empty()) {
        std::string msg = "the graph is invalid (" + std::to_string(issues.size()) + " problem"
                          + (issues.size() > 1 ? "s" : "") + "):";
        for (const auto &i : issues)
            msg += "\n  - " + i.message;
        return Result<Plan>::failure(errc::kGraphInvalid, msg);
    }
    Plan p;
    auto tmpl = g.meta.find("template");
    p.templateName = tmpl == g.meta.end() ? std::string() : tmpl->second;

    const NodeId settings = g.nodesOfKind("Settings").front()->id;
    p.steps = g.paramInt(settings, "steps");
    p.batchSize = g.paramInt(settings, "batch_size");
    p.seqLen = g.paramInt(settings, "seq_len");
    p.evalInterval = g.paramInt(settings, "eval_interval");
    p.evalBatches = g.paramInt(settings, "eval_batches");
    p.checkpointInterval = g.paramInt(settings, "checkpoint_interval");
    p.device = g.paramString(settings, "device");
    p.threads = int(g.paramInt(settings, "threads"));
    p.seed = g.paramInt(settings, "seed");
    p.onPolicyFraction = g.paramFloat(settings, "on_policy_fraction");
    p.promptLen = g.paramInt(settings, "prompt_len");
    p.sampleTemperature = g.paramFloat(settings, "sample_temperature");
    if (p.onPolicyFraction > 0 && p.promptLen >= p.seqLen)
        return Result<Plan>::failure(errc::kInvalidInput, g.describeNode(settings)
                                                    + ": prompt_len must be shorter than seq_len "
                                                      "for on-policy sampling");

    if (auto diag = g.nodesOfKind("Diagnostics"); !diag.empty()) {
        const NodeId id = diag.front()->id;
        p.diagnostics.enabled = g.paramBool(id, "enabled");
        p.diagnostics.interval = g.paramInt(id, "interval");
        p.diagnostics.probeSamples = g.paramInt(id, "probe_samples");
        p.diagnostics.paramTokens = g.paramInt(id, "param_tokens");
        p.diagnostics.paramScope = g.paramString(id, "param_scope");
        p.diagnostics.calibration = g.paramBool(id, "calibration");
        p.diagnostics.diversityPrompts = g.paramInt(id, "diversity_prompts");
        p.diagnostics.diversityLength = g.paramInt(id, "diversity_length");
        p.diagnostics.diversityTemperature = g.paramFloat(id, "diversity_temperature");
    }

    const NodeId dataId = g.nodesOfKind("Dataset").front()->id;
    auto &d = p.dataset;
    d.source = g.paramString(dataId, "source");
    d.path = g.paramString(dataId, "path");
    d.textField = g.paramString(dataId, "text_field");
    d.vocab = int(g.paramInt(dataId, "vocab"));
    d.hiddenStates = int(g.paramInt(dataId, "hidden_states"));
    d.concentration = g.paramFloat(dataId, "concentration");
    d.trainSequences = g.paramInt(dataId, "train_sequences");
    d.validationSequences = g.paramInt(dataId, "validation_sequences");
    d.validationFraction = g.paramFloat(dataId, "validation_fraction");
    d.seed = std::uint64_t(g.paramInt(dataId, "seed"));
    d.seqLen = int(p.seqLen);
    // A corpus through a subword tokenizer: the Hugging Face teacher's or a file's. Its
    // vocabulary is the data's, so the tokenizer is read here, before the models are shaped.
    // The teacher's own tokenizer may have fewer tokens than the model has rows (Qwen2 pads
    // 151,646 to 151,936): then the data takes the model's vocabulary.
    const std::string tokenizer = g.paramString(dataId, "tokenizer");
    if (d.source != "oracle-hmm" && tokenizer != "bytes") {
        if (tokenizer == "teacher") {
            for (const Node *t : g.nodesOfKind("Teacher"))
                if (g.paramString(t->id, "source") == "hf" && d.tokenizerPath.empty())
                    d.tokenizerPath = g.paramString(t->id, "path");
            if (d.tokenizerPath.empty())
                return Result<Plan>::failure(errc::kInvalidInput, g.describeNode(dataId)
                                                                      + ": tokenizer = teacher needs a Teacher with "
                                                                        "source = hf (a Hugging Face folder)");
        } else {
            d.tokenizerPath = g.paramString(dataId, "tokenizer_path");
            if (d.tokenizerPath.empty())
                return Result<Plan>::failure(errc::kInvalidInput, g.describeNode(dataId)
                                                                      + ": tokenizer = file needs tokenizer_path");
        }
        auto bpe = data::openTokenizer(d.tokenizerPath);
        if (!bpe.ok())
            return Result<Plan>::failure(bpe.error().code, g.describeNode(dataId) + ": " + bpe.error().message);
        d.tokenizer = bpe.value();
        if (tokenizer == "teacher")
            if (auto config = hf::readHfConfig(d.tokenizerPath); config.ok())
                d.modelVocab = config.value().info.vocab;
    }
    const std::int64_t vocab = d.source == "oracle-hmm" ? d.vocab
                               : d.tokenizer           ? std::max(d.tokenizer->vocabSize(), d.modelVocab)
                                                       : 256;

    const NodeId studentId = g.nodesOfKind("Student").front()->id;
    p.student = shapeOf(g, studentId, vocab, p.seqLen);

    std::set<std::string> teacherLabels;
    for (const Node *t : g.nodesOfKind("Teacher")) {
        TeacherPlan tp;
        tp.node = t->id;
        tp.label = uniqueLabel(teacherLabels, labelOf(g, *t, "teacher"), t->id);
        tp.source = g.paramString(t->id, "source");
        tp.path = g.paramString(t->id, "path");
        tp.precision = g.paramString(t->id, "precision");
        tp.shape = shapeOf(g, t->id, vocab, p.seqLen);
        tp.trainSteps = g.paramInt(t->id, "train_steps");
        tp.trainLr = g.paramFloat(t->id, "train_lr");
        p.teachers.push_back(tp);
    }

    // An initialised student takes its sizes from what it starts from.
    StudentInit &init = p.studentInit;
    init.kind = g.paramString(studentId, "init");
    init.path = g.paramString(studentId, "init_path");
    init.stride = g.paramInt(studentId, "init_stride");
    auto hfShape = [&](const std::string &dir) -> Result<ModelShape> {
        auto config = hf::readHfConfig(dir);
        if (!config.ok())
            return config.error();
        const ModelInfo &i = config.value().info;
        ModelShape s{i.vocab, i.layers, i.hidden, i.heads, i.ffn, p.seqLen, i.tiedHead};
        s.family = config.value().llamaFamily() ? ModelFamily::Llama : ModelFamily::Gpt;
        s.kvHeads = i.kvHeads;
        s.ropeTheta = config.value().ropeTheta;
        return s;
    };
    if (init.kind == "hf") {
        auto shape = hfShape(init.path);
        if (!shape.ok())
            return Result<Plan>::failure(shape.error().code, g.describeNode(studentId) + ": " + shape.error().message);
        p.student = shape.value();
    } else if (init.kind == "teacher-layers") {
        if (p.teachers.size() != 1)
            return Result<Plan>::failure(errc::kInvalidInput, g.describeNode(studentId)
                                                                  + ": init 'teacher-layers' needs exactly one Teacher");
        const TeacherPlan &t = p.teachers.front();
        ModelShape from = t.shape;
        if (t.source == "hf") {
            auto shape = hfShape(t.path);
            if (!shape.ok())
                return Result<Plan>::failure(shape.error().code, "teacher '" + t.label + "': " + shape.error().message);
            from = shape.value();
        }
        from.layers = (from.layers + init.stride - 1) / init.stride;
        p.student = from;
    }

    const NodeId optId = g.nodesOfKind("Optimizer").front()->id;
    auto &o = p.optimizer;
    o.kind = g.paramString(optId, "kind");
    o.lr = g.paramFloat(optId, "lr");
    o.weightDecay = g.paramFloat(optId, "weight_decay");
    o.beta1 = g.paramFloat(optId, "beta1");
    o.beta2 = g.paramFloat(optId, "beta2");
    o.momentum = g.paramFloat(optId, "momentum");
    o.warmupSteps = g.paramInt(optId, "warmup_steps");
    o.schedule = g.paramString(optId, "lr_schedule");
    o.minLrRatio = g.paramFloat(optId, "min_lr_ratio");
    o.gradClip = g.paramFloat(optId, "grad_clip");

    // Terms: the Loss nodes feeding the optimizer, directly or through one Combine.
    const Node *objective = g.source(optId, "loss");
    std::vector<const Node *> lossNodes;
    if (objective->kind == "Combine") {
        p.combineScale = g.paramFloat(objective->id, "scale");
        for (const auto &e : g.edgesInto(objective->id, "terms"))
            if (const Node *n = g.node(e.fromNode); n && n->kind == "Loss")
                lossNodes.push_back(n);
    } else if (objective->kind == "Loss") {
        lossNodes.push_back(objective);
    }
    std::sort(lossNodes.begin(), lossNodes.end(),
              [](const Node *a, const Node *b) { return a->id < b->id; });

    std::set<std::string> labels;
    for (const Node *n : lossNodes) {
        TermPlan t;
        t.node = n->id;
        t.kind = g.paramString(n->id, "kind");
        t.label = uniqueLabel(labels, n->title.empty() ? t.kind : n->title, n->id);
        t.config.temperature = g.paramFloat(n->id, "temperature");
        t.config.beta = g.paramFloat(n->id, "beta");
        t.config.alpha = g.paramFloat(n->id, "alpha");
        t.config.labelSmoothing = g.paramFloat(n->id, "label_smoothing");
        t.config.topK = int(g.paramInt(n->id, "top_k"));
        const std::int64_t rampSteps = g.paramInt(n->id, "schedule_steps") > 0
                                           ? g.paramInt(n->id, "schedule_steps")
                                           : p.steps;
        t.weight = {g.paramString(n->id, "weight_schedule") == "linear",
                    g.paramFloat(n->id, "weight"), g.paramFloat(n->id, "weight_end"), rampSteps};
        t.temperature = {g.paramString(n->id, "temperature_schedule") == "linear",
                         t.config.temperature, g.paramFloat(n->id, "temperature_end"), rampSteps};
        t.taidStart = g.paramFloat(n->id, "taid_start");
        t.taidEnd = g.paramFloat(n->id, "taid_end");
        t.taidAlpha = g.paramFloat(n->id, "taid_alpha");
        t.taidMomentum = g.paramFloat(n->id, "taid_momentum");
        t.config.taidT = t.taidStart;

        const auto *entry = losses::find(t.kind);
        if (!entry)
            return Result<Plan>::failure(errc::kInvalidInput, g.describeNode(n->id) + ": unknown loss kind '"
                                                        + t.kind + "'");
        if (entry->kind->needsTeacherLogits || entry->kind->needsTopk) {
            const Node *teacher = g.source(n->id, "teacher");
            if (!teacher || teacher->kind != "Teacher")
                return Result<Plan>::failure(errc::kInvalidInput, g.describeNode(n->id)
                                                            + ": input 'teacher' must come from "
                                                              "a Teacher");
            t.teacher = teacher->id;
            if (entry->kind->needsTopk && t.config.topK > vocab)
                return Result<Plan>::failure(errc::kInvalidInput, g.describeNode(n->id) + ": top_k = "
                                                            + std::to_string(t.config.topK)
                                                            + " exceeds the vocabulary ("
                                                            + std::to_string(vocab) + ")");
        }
        if (entry->kind->needsHidden) {
            const int sl = int(g.paramInt(n->id, "student_layer"));
            const int tl = int(g.paramInt(n->id, "teacher_layer"));
            // Sizes on each side before projection, to resolve out_dim = 0.
            auto sizeOf = [&](const std::string &port) -> std::int64_t {
                const Node *s = g.source(n->id, port);
                if (s && s->kind == "Projection")
                    s = g.source(s->id, "hidden");
                return s ? g.paramInt(s->id, "d_model") : 0;
            };
            auto sh = traceHidden(g, n->id, "student_hidden", sl, p, sizeOf("teacher_hidden"));
            if (!sh.ok())
                return sh.error();
            auto th = traceHidden(g, n->id, "teacher_hidden", tl, p, sizeOf("student_hidden"));
            if (!th.ok())
                return th.error();
            t.studentHidden = sh.value();
            t.teacherHidden = th.value();
            if (!t.studentHidden.isStudent || t.teacherHidden.isStudent)
                return Result<Plan>::failure(errc::kInvalidInput,
                                             g.describeNode(n->id)
                                                 + ": 'student_hidden' must come from the "
                                                   "Student and 'teacher_hidden' from a Teacher");
        }
        t.loss = entry;
        p.terms.push_back(t);
    }
    if (p.terms.empty())
        return Result<Plan>::failure(errc::kInvalidInput, "the graph has no loss term connected to the "
                                                "Optimizer");
    return p;
}

} // namespace distillery::core::train
