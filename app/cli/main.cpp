// distillery-cli: the headless front end of the engine. Exit codes: 0 success, 1 the run failed
// (or was cancelled), 2 bad input. The commands live in runcommands.cpp and infocommands.cpp.

#include "cli.h"

#include "distillery/core/blas.h"
#include "distillery/core/version.h"

#include <CLI/CLI.hpp>

#include <iostream>
#include <limits>

using namespace distillery::cli;

int main(int argc, char **argv)
{
    // Commands that compute may start the program again on better BLAS kernels (blas.h); the
    // others are not worth the second start-up of LibTorch.
    if (argc > 1) {
        const std::string command = argv[1];
        if (command == "run" || command == "resume" || command == "bench" || command == "system" ||
            command == "sweep")
            selectBlasKernels(argc, argv);
    }
    CLI::App app{"Distillery: knowledge-distillation workbench (headless)", "distillery-cli"};
    app.set_version_flag("--version", std::string("distillery-cli ") + versionString());
    app.require_subcommand(1);

    std::string graphPath, store, runText, key, kind, teacherLogits, studentLogits;
    std::vector<std::string> params;
    RunOptions runOptions;
    long long steps = 0, seed = -1, after = -1;
    int threads = -1;
    std::string device;
    bool csv = false;

    auto *validate = app.add_subcommand("validate", "Check a graph file and list every problem");
    validate->add_option("GRAPH", graphPath, "Graph JSON file or template name")->required();

    auto addRunOptions = [&](CLI::App *cmd) {
        cmd->add_option("--steps", steps, "Override the number of student steps")
            ->check(CLI::Range(1LL, 100000000LL));
        cmd->add_option("--device", device, "auto, cpu or cuda")
            ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
        cmd->add_option("--threads", threads, "CPU threads (0 = one per core)")
            ->check(CLI::Range(0, 1024));
        cmd->add_option("--seed", seed, "Override the seed")
            ->check(CLI::Range(0LL, std::numeric_limits<long long>::max()));
    };
    auto *run = app.add_subcommand("run", "Train the experiment in GRAPH, writing to the store");
    run->add_option("GRAPH", graphPath, "Graph JSON file or template name (e.g. classic-kd)")->required();
    run->add_option("--store", store, "Run store (SQLite file; created if missing)")->required();
    run->add_option("--name", runOptions.name, "Run name");
    run->add_option("--artifacts", runOptions.artifactsDir,
                    "Directory for checkpoints (default: STORE.artifacts)");
    addRunOptions(run);

    auto *resume = app.add_subcommand("resume", "Continue an interrupted or cancelled run");
    resume->add_option("RUN", runText, "Run id or 'last'")->required();
    resume->add_option("--store", store, "Run store")->required();
    resume->add_option("--artifacts", runOptions.artifactsDir, "Checkpoint directory");

    auto *runs = app.add_subcommand("runs", "List the runs in a store");
    runs->add_option("--store", store, "Run store")->required();
    bool runsJson = false;
    runs->add_flag("--json", runsJson, "One JSON object per run (JSON lines), for scripts");

    auto *show = app.add_subcommand("show", "Summary and final metrics of one run");
    show->add_option("RUN", runText, "Run id or 'last'")->required();
    show->add_option("--store", store, "Run store")->required();

    auto *metrics = app.add_subcommand("metrics", "Print one scalar series of a run");
    metrics->add_option("RUN", runText, "Run id or 'last'")->required();
    metrics->add_option("KEY", key, "Series name, e.g. train/loss or eval/student_nll; without "
                                    "it, the run's series are listed");
    metrics->add_option("--store", store, "Run store")->required();
    metrics->add_flag("--csv", csv, "CSV with a header: step,wall_time,value");
    metrics->add_option("--after", after, "Only rows after this step (live tail)");

    auto *samples = app.add_subcommand("samples", "Print the text a run generated, prompt marked");
    samples->add_option("RUN", runText, "Run id or 'last'")->required();
    samples->add_option("--store", store, "Run store")->required();
    long long sampleStep = -1;
    samples->add_option("--step", sampleStep, "The step (default: the last with samples)")
        ->check(CLI::Range(0LL, std::numeric_limits<long long>::max()));

    auto *loss = app.add_subcommand("loss", "Loss inspector: value and gradient of one term");
    loss->add_option("KIND", kind, "Loss kind (e.g. forward-kl, gjsd, topk-kl)")->required();
    loss->add_option("--param", params, "NAME=VALUE, repeatable (temperature, beta, alpha, "
                                        "label, label_smoothing, top_k, taid_t)");
    loss->add_option("--teacher-logits", teacherLogits, "Comma-separated logits (or hidden)")
        ->required();
    loss->add_option("--student-logits", studentLogits, "Comma-separated logits (or hidden)")
        ->required();
    auto *lossList = app.add_subcommand("losses", "List the loss kinds with their formulas");

    BenchOptions benchOptions;
    auto *bench = app.add_subcommand("bench", "Benchmark the standard distillation workload");
    bench->add_option("--steps", benchOptions.steps, "Timed steps")->check(CLI::Range(1, 1000000));
    bench->add_option("--warmup", benchOptions.warmupSteps, "Warm-up steps")
        ->check(CLI::Range(0, 1000000));
    bench->add_flag("!--no-overlap", benchOptions.overlapTeacher,
                    "Run teacher and student in turn instead of side by side");
    bench->add_option("--threads", benchOptions.threads, "Threads (0 = one per core)")
        ->check(CLI::Range(0, 1024));
    bool benchDiagnostics = false;
    DiagnosticsBenchOptions diagBench;
    bench->add_flag("--diagnostics", benchDiagnostics,
                    "Time whole training runs of the workload with and without the Diagnostics "
                    "node (--steps = training steps, default 100)");
    bench->add_option("--rounds", diagBench.rounds, "Rounds of the --diagnostics comparison")
        ->check(CLI::Range(1, 1000));
    bench->add_option("--eval-interval", diagBench.evalInterval,
                      "Evaluation interval of the --diagnostics runs (steps)")
        ->check(CLI::Range(1, 100000000));

    std::string nodeKind;
    bool markdown = false;
    auto *nodes = app.add_subcommand("nodes", "List the node kinds with their ports and parameters");
    nodes->add_option("KIND", nodeKind, "Only this kind (e.g. Loss)");
    nodes->add_flag("--markdown", markdown, "Markdown tables (docs/nodes.md)");
    auto *templates = app.add_subcommand("templates", "List the built-in experiment templates, or "
                                                      "write one out");
    std::string templateName, templateOutput;
    templates->add_option("NAME", templateName, "A template to print as a graph file");
    templates->add_option("--output,-o", templateOutput, "Write it to this file instead");
    ExportRequest exportRequest;
    auto *exportCmd = app.add_subcommand("export", "Write a run's trained student for other tools: a "
                                                   "Hugging Face folder, TorchScript or ONNX");
    exportCmd->add_option("RUN", runText, "Run id or 'last'")->required();
    exportCmd->add_option("--store", store, "Run store")->required();
    exportCmd->add_option("--format", exportRequest.format,
                          "hf (config.json, model.safetensors, tokenizer, model card), "
                          "torchscript (model.pt with forward(tokens) -> logits) or onnx "
                          "(model.onnx, opset 17)")
        ->check(CLI::IsMember(exportFormats()));
    exportCmd->add_option("--out", exportRequest.out, "Folder to create")->required();
    exportCmd->add_option("--step", exportRequest.step,
                          "Export the checkpoint at this step (default: the newest)")
        ->check(CLI::Range(0LL, std::numeric_limits<long long>::max()));
    exportCmd->add_option("--dtype", exportRequest.dtype, "f32, f16 or bf16 weights (default f32)")
        ->check(CLI::IsMember(exportDtypes()));
    exportCmd->add_flag("--force", exportRequest.force,
                        "Replace the folder when it exists and is not empty");
    ModelCommand modelCommand;
    auto *model = app.add_subcommand("model", "Use a model file or export folder on its own: inspect, "
                                              "tokenize, generate, score, logits");
    model->require_subcommand(1);
    auto modelPath = [&](CLI::App *cmd) {
        cmd->add_option("PATH", modelCommand.path, "A built-in checkpoint (student.pt), a TorchScript "
                                                   "file, an export folder with model.pt, or a Hugging "
                                                   "Face folder (config.json, safetensors: gpt2, llama, "
                                                   "mistral, qwen2)")
            ->required();
        cmd->add_option("--tokenizer", modelCommand.tokenizer,
                        "bytes, words, or a subword tokenizer: a tokenizer.json, a tokenizer.model, or "
                        "a folder with one or with vocab.json and merges.txt (default: the "
                        "tokenizer files beside the model)");
    };
    auto *modelInspect = model->add_subcommand("inspect", "Architecture, sizes, dtype and tokenizer");
    modelPath(modelInspect);
    auto *modelTokenize = model->add_subcommand("tokenize", "The token ids of a text");
    modelPath(modelTokenize);
    modelTokenize->add_option("--text", modelCommand.text, "The text")->required();
    modelTokenize->add_flag("--json", modelCommand.json, "A JSON array");
    auto *modelGenerate = model->add_subcommand("generate", "Continue a prompt");
    modelPath(modelGenerate);
    modelGenerate->add_option("--prompt", modelCommand.text, "The prompt")->required();
    modelGenerate->add_option("--tokens", modelCommand.generate.tokens, "Tokens to generate (default 32)")
        ->check(CLI::Range(0, 1000000));
    modelGenerate->add_option("--temperature", modelCommand.generate.temperature,
                              "Sampling temperature; 0 = greedy (default 1)")
        ->check(CLI::Range(0.0, 100.0));
    modelGenerate->add_option("--seed", modelCommand.generate.seed, "Random seed (default 0)");
    auto *modelScore = model->add_subcommand("score", "NLL per token and perplexity of a text");
    auto *modelLogits = model->add_subcommand("logits", "The K most probable next tokens at every "
                                                        "position, as JSON");
    for (CLI::App *cmd : {modelScore, modelLogits}) {
        modelPath(cmd);
        auto *text = cmd->add_option("--text", modelCommand.text, "The text");
        auto *tokens = cmd->add_option("--tokens", modelCommand.tokens, "Comma-separated token ids");
        text->excludes(tokens);
        if (cmd == modelScore)
            text->excludes(cmd->add_option("--file", modelCommand.file, "A text file"));
    }
    modelLogits->add_option("--top", modelCommand.top, "K (default 5)")->check(CLI::Range(1, 1000000));
    auto *modelTime = model->add_subcommand("time", "Milliseconds per forward pass over random tokens "
                                                    "(median and each run)");
    modelPath(modelTime);
    modelTime->add_option("--batch", modelCommand.batch, "Sequences (default 16)")->check(CLI::Range(1, 65536));
    modelTime->add_option("--length", modelCommand.length, "Tokens per sequence (default 128)")
        ->check(CLI::Range(1, 1 << 20));
    modelTime->add_option("--repeat", modelCommand.repeat, "Timed passes (default 20)")->check(CLI::Range(1, 100000));
    modelTime->add_option("--threads", modelCommand.threads, "Intra-op threads (0 = as configured)")
        ->check(CLI::Range(0, 1024));
    SweepCommand sweepCommand;
    auto *sweep = app.add_subcommand("sweep", "Run GRAPH once per combination of parameter values (a grid, "
                                              "or random draws), one after another, as one group");
    sweep->add_option("GRAPH", graphPath, "Graph JSON file or template name")->required();
    sweep->add_option("--store", store, "Run store (SQLite file; created if missing)");
    sweep->add_option("--set", sweepCommand.sets,
                      "NODE.PARAM=VALUES, repeatable: a list (kd.temperature=1,2,4), a linear range "
                      "(kd.weight=lin:0.1:0.9:5) or a log range (adamw.lr=log:1e-4:1e-2:3); NODE is a node's "
                      "title or a kind the graph holds once (Settings.seed)")
        ->required();
    sweep->add_option("--random", sweepCommand.random,
                      "N random draws of the non-seed parameters instead of the grid (each with every seed)")
        ->check(CLI::Range(1, 10000));
    sweep->add_option("--sweep-seed", sweepCommand.sweepSeed, "Seed of the random draws (default 0)");
    sweep->add_option("--name", sweepCommand.name, "The sweep's name: its runs' group (default: template and time)");
    sweep->add_flag("--dry-run", sweepCommand.dryRun, "Print the plan and stop");
    sweep->add_option("--artifacts", runOptions.artifactsDir, "Directory for checkpoints (default: STORE.artifacts)");
    addRunOptions(sweep);

    std::vector<std::string> runList, groupBy, metricList;
    std::string reference;
    bool compareJson = false, compareAll = false;
    auto *compare = app.add_subcommand("compare", "Config diff (only differences) and metric table with mean "
                                                  "± std per group of several runs");
    compare->add_option("RUN", runList, "Runs: ids (3 5), ranges (3-7), 'last', group:NAME, tag:NAME")->required();
    compare->add_option("--store", store, "Run store")->required();
    compare->add_option("--group-by", groupBy,
                        "Group by parameters (kd.temperature) or template, tag, group, status; 'auto' (the "
                        "default): the parameters that differ except the seed; 'none': every run alone");
    compare->add_option("--metrics", metricList,
                        "KEY[:last|best|min|max], comma-separated (e.g. kl_oracle_student:best,student_nll)");
    compare->add_option("--reference", reference, "The run the others are compared with (default: the first)");
    compare->add_flag("--all", compareAll, "Every parameter, not only those that differ");
    auto *compareCsv = compare->add_flag("--csv", csv, "The metric table as CSV");
    compare->add_flag("--json", compareJson, "Everything as one JSON object")->excludes(compareCsv);

    ReportCommand reportCommand;
    auto *report = app.add_subcommand("report", "A comparison of runs as one self-contained HTML file (runs, "
                                                "metric table, config diff, band charts, trade-off scatter)");
    report->add_option("RUN", reportCommand.runs, "Runs: ids, ranges, 'last', group:NAME, tag:NAME")->required();
    report->add_option("--store", reportCommand.store, "Run store")->required();
    report->add_option("--out", reportCommand.out, "The HTML file to write")->required();
    report->add_option("--group-by", reportCommand.groupBy, "As for compare (default auto)");
    report->add_option("--metrics", reportCommand.metrics, "Table columns, as for compare");
    report->add_option("--curves", reportCommand.curves, "Series to draw by group (default: the first two columns)");
    report->add_option("--band", reportCommand.band, "Band around each group's mean: std, sem, minmax or none")
        ->check(CLI::IsMember({"std", "sem", "minmax", "none"}));
    report->add_option("--scatter", reportCommand.scatter,
                       "X,Y of the trade-off plot: parameters, student.params, student.flops or metrics "
                       "(default: the first grouping parameter against the first column)");
    report->add_option("--reference", reportCommand.reference, "The reference run of the config diff");
    report->add_option("--title", reportCommand.title, "The report's title");

    std::vector<std::string> tagAdd, tagRemove;
    bool tagClear = false;
    auto *tag = app.add_subcommand("tag", "Add or remove tags of runs");
    tag->add_option("RUN", runList, "Runs: ids, ranges, 'last', group:NAME, tag:NAME")->required();
    tag->add_option("--store", store, "Run store")->required();
    tag->add_option("--add", tagAdd, "Tags to add (comma-separated or repeated)");
    tag->add_option("--remove", tagRemove, "Tags to remove");
    tag->add_flag("--clear", tagClear, "Remove every tag first");
    std::string noteText;
    auto *note = app.add_subcommand("note", "Write a free-text note on a run ('' clears it)");
    note->add_option("RUN", runText, "Run id or 'last'")->required();
    note->add_option("TEXT", noteText, "The note")->required();
    note->add_option("--store", store, "Run store")->required();

    auto *system = app.add_subcommand(
        "system", "CPU features, the BLAS kernels in use and how they were chosen, threads, CUDA");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        const int code = app.exit(e);
        return code == 0 ? kExitOk : kExitBadInput;
    }

    try {
        if (steps > 0)
            runOptions.steps = steps;
        if (!device.empty())
            runOptions.device = device;
        if (threads >= 0)
            runOptions.threads = threads;
        if (seed >= 0)
            runOptions.seed = seed;
        runOptions.storePath = store;

        if (*validate)
            return cmdValidate(graphPath);
        if (*run)
            return cmdRun(graphPath, runOptions);
        if (*resume)
            return cmdResume(runText, runOptions);
        if (*runs)
            return cmdRuns(store, runsJson);
        if (*show)
            return cmdShow(runText, store);
        if (*metrics)
            return cmdMetrics(runText, key, store, csv, after);
        if (*samples)
            return cmdSamples(runText, store, sampleStep);
        if (*loss)
            return cmdLoss(kind, params, teacherLogits, studentLogits);
        if (*lossList)
            return cmdLosses();
        if (*bench && benchDiagnostics) {
            if (bench->count("--steps"))
                diagBench.steps = benchOptions.steps;
            diagBench.threads = benchOptions.threads;
            return cmdDiagnosticsBench(diagBench);
        }
        if (*bench)
            return cmdBench(benchOptions);
        if (*nodes)
            return cmdNodes(nodeKind, markdown);
        if (*templates)
            return cmdTemplates(templateName, templateOutput);
        if (*system)
            return cmdSystem();
        if (*sweep)
            return cmdSweep(graphPath, sweepCommand, runOptions);
        if (*compare)
            return cmdCompare(runList, store, groupBy, metricList, reference, csv, compareJson, compareAll);
        if (*report)
            return cmdReport(reportCommand);
        if (*tag)
            return cmdTag(runList, store, tagAdd, tagRemove, tagClear);
        if (*note)
            return cmdNote(runText, store, noteText);
        if (*model)
            for (CLI::App *sub : model->get_subcommands())
                return cmdModel(sub->get_name(), modelCommand);
        if (*exportCmd) {
            exportRequest.storePath = store;
            return cmdExport(runText, exportRequest);
        }
    } catch (const std::exception &e) {
        std::cerr << "error: " << e.what() << "\n";
        return kExitRunFailed;
    }
    return kExitBadInput;
}
