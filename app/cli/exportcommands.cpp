// distillery-cli export: a run's trained student out, as a Hugging Face folder, TorchScript
// or ONNX; distillery-cli model: a model file (or export folder) used on its own.

#include "cli.h"

#include "distillery/core/errors.h"
#include "distillery/core/export.h"
#include "distillery/core/files.h"
#include "distillery/core/modeltools.h"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <iostream>
#include <sstream>

namespace distillery::cli {

namespace {

// Ctrl-C during an export: it stops between files and removes its temporary folder.
std::atomic<bool> g_exportCancel{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void onExportSignal(int)
{
    g_exportCancel.store(true);
}

} // namespace

int cmdExport(const std::string &runText, ExportRequest request)
{
    auto opened = openRun(request.storePath, runText);
    if (!opened.ok())
        return reportFailure(opened.error());
    request.run = opened.value().second;
    opened.value().first.reset();
    std::string lastStage;
    std::signal(SIGINT, onExportSignal);
    std::signal(SIGTERM, onExportSignal);
    auto result = exportStudent(request, [&](double, const std::string &stage) {
        if (stage != lastStage && stage != "done")
            std::cerr << stage << "\n";
        lastStage = stage;
    }, &g_exportCancel);
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    if (!result.ok())
        return reportFailure(result.error());
    const ExportResult &r = result.value();
    std::cout << "run " << request.run << " at step " << r.step << " exported as " << request.format
              << " (" << request.dtype << ") to " << r.path << " in " << fmt(r.seconds, 3) << " s\n";
    for (const auto &f : r.files)
        std::cout << "  " << f << "\n";
    std::cout << formatBytes(std::uint64_t(r.bytes)) << " in all\n";
    return kExitOk;
}

namespace {

Result<std::vector<std::int64_t>> parseTokens(const std::string &text)
{
    std::vector<std::int64_t> ids;
    std::string item;
    std::istringstream in(text);
    while (std::getline(in, item, ',')) {
        char *end = nullptr;
        const long long v = std::strtoll(item.c_str(), &end, 10);
        if (item.empty() || !end || *end != '\0' || v < 0)
            return Error{errc::kBadOption, "--tokens takes comma-separated token ids, got '"
                                               + (item.size() > 20 ? item.substr(0, 20) + "…" : item) + "'"};
        ids.push_back(v);
    }
    return ids;
}

} // namespace

int cmdModel(const std::string &action, const ModelCommand &c)
{
    auto opened = LoadedModel::open(c.path, c.tokenizer);
    if (!opened.ok())
        return reportFailure(opened.error());
    LoadedModel &model = *opened.value();
    if (action == "inspect") {
        const ModelFacts &m = model.facts();
        auto known = [](std::int64_t v) { return v < 0 ? std::string("-") : std::to_string(v); };
        std::cout << m.path << "\n"
                  << "  kind          " << m.kind << " (" << m.description << ")\n"
                  << "  architecture  " << m.architecture << "\n"
                  << "  vocabulary    " << m.vocab << "\n"
                  << "  layers        " << known(m.layers) << "\n"
                  << "  hidden        " << known(m.hidden) << "\n"
                  << "  heads         " << known(m.heads)
                  << (m.kvHeads > 0 && m.kvHeads != m.heads ? " (" + std::to_string(m.kvHeads) + " key/value)" : "")
                  << "\n"
                  << "  ffn           " << known(m.ffn) << "\n"
                  << "  max length    " << (m.maxLength > 0 ? std::to_string(m.maxLength) : "-") << "\n"
                  << "  parameters    " << m.parameters << "\n"
                  << "  dtype         " << m.dtype << "\n"
                  << "  tokenizer     " << (m.tokenizer.empty() ? "none, token ids only" : m.tokenizer)
                  << " (" << m.tokenizerSource << ")\n"
                  << "  file          " << formatBytes(std::uint64_t(m.fileBytes)) << "\n";
        return kExitOk;
    }
    if (action == "tokenize") {
        auto ids = model.tokenize(c.text);
        if (!ids.ok())
            return reportFailure(ids.error());
        for (std::size_t i = 0; i < ids.value().size(); ++i)
            std::cout << (i ? (c.json ? "," : " ") : (c.json ? "[" : "")) << ids.value()[i];
        std::cout << (c.json ? (ids.value().empty() ? "[]" : "]") : "") << "\n";
        return kExitOk;
    }
    if (action == "time") {
        auto ms = model.timeForward(c.batch, c.length, c.repeat, c.threads);
        if (!ms.ok())
            return reportFailure(ms.error());
        std::vector<double> sorted = ms.value();
        std::sort(sorted.begin(), sorted.end());
        const double median = sorted.size() % 2 ? sorted[sorted.size() / 2]
                                                : 0.5 * (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]);
        std::cout << "median " << fmt(median, 3) << " ms per forward pass of [" << c.batch << ", " << c.length
                  << "] (" << fmt(double(c.batch * c.length) / median * 1e3, 0) << " tokens/s); runs:";
        for (const double v : ms.value())
            std::cout << " " << fmt(v, 2);
        std::cout << "\n";
        return kExitOk;
    }
    if (action == "generate") {
        auto text = model.generate(c.text, c.generate);
        if (!text.ok())
            return reportFailure(text.error());
        std::cout << printable(text.value()) << "\n";
        return kExitOk;
    }
    std::vector<std::int64_t> ids;
    if (!c.tokens.empty()) {
        auto parsed = parseTokens(c.tokens);
        if (!parsed.ok())
            return reportFailure(parsed.error());
        ids = parsed.value();
    } else {
        std::string text = c.text;
        if (!c.file.empty()) {
            auto read = readInputFile(c.file, InputFileKind{"text file", 64ull << 20, errc::kDataNotFound,
                                                            errc::kDataIo, errc::kDataEmpty});
            if (!read.ok())
                return reportFailure(read.error());
            text = read.value();
        }
        auto tokenized = model.tokenize(text);
        if (!tokenized.ok())
            return reportFailure(tokenized.error());
        ids = tokenized.value();
    }
    if (action == "score") {
        auto s = model.score(ids);
        if (!s.ok())
            return reportFailure(s.error());
        std::cout << s.value().tokens.size() << " tokens scored: NLL " << fmt(s.value().nll) << " nats/token, perplexity "
                  << fmt(s.value().perplexity, 3) << "\n";
        return kExitOk;
    }
    auto top = model.topLogits(ids, c.top);
    if (!top.ok())
        return reportFailure(top.error());
    std::cout << "[";
    for (std::size_t i = 0; i < top.value().size(); ++i) {
        const PositionLogits &p = top.value()[i];
        std::cout << (i ? ",\n " : "") << "{\"position\":" << p.position << ",\"token\":" << p.token << ",\"top\":[";
        for (std::size_t j = 0; j < p.top.size(); ++j)
            std::cout << (j ? "," : "") << "{\"token\":" << p.top[j].token << ",\"logprob\":" << fmt(p.top[j].logprob, 6) << "}";
        std::cout << "]}";
    }
    std::cout << "]\n";
    return kExitOk;
}

} // namespace distillery::cli
