#pragma once

// A graph compiled into what the trainer executes: resolved dataset, models, loss terms with
// their weights and schedules, optimizer and run settings. Plain values; no tensors.

#include "distillery/core/graph.h"
#include "distillery/core/models.h"
#include "distillery/core/result.h"
#include "distillery/core/trainer.h"

#include "data/data.h"
#include "losses/losses.h"

#include <string>
#include <vector>

namespace distillery::core::train {

struct TeacherPlan
{
    NodeId node = kInvalidNode;
    std::string label;  // title or "teacher<id>"
    std::string source; // train | checkpoint | torchscript | hf
    std::string path;
    std::string precision = "fp32"; // fp32 | bf16 | fp16: the frozen teacher's weights
    ModelShape shape;
    std::int64_t trainSteps = 0;
    double trainLr = 0;
};

// Where the student's first weights come from (Student.init).
struct StudentInit
{
    std::string kind = "scratch"; // scratch | teacher-layers | hf
    std::string path;             // hf: the folder
    std::int64_t stride = 2;      // teacher-layers: the teacher's layers 0, k, 2k, ...
    std::size_t teacher = 0;      // teacher-layers: the index in Plan::teachers
};

// A value that is constant or ramps linearly from `start` to `end` over `steps` steps.
struct Schedule
{
    bool linear = false;
    double start = 1.0;
    double end = 1.0;
    std::int64_t steps = 0;
    double at(std::int64_t step) const;
};

// Where a hidden-state input comes from: a model's layer, optionally through a Projection.
struct HiddenSource
{
    NodeId model = kInvalidNode; // Student or Teacher node
    bool isStudent = false;
    int layer = -1;
    NodeId projection = kInvalidNode; // kInvalidNode = none
    std::int64_t projectionOut = 0;   // resolved output size
    bool projectionBias = true;
};

struct TermPlan
{
    NodeId node = kInvalidNode;
    std::string label; // unique, used in metric keys: train/term/<label>
    std::string kind;
    const losses::LossEntry *loss = nullptr; // the function and its row of the loss-kind table
    const LossKind &needs() const { return *loss->kind; }
    // TAID carries a coefficient from step to step (TrainingState).
    bool isTaid() const { return kind == "taid"; }
    losses::LossConfig config;
    Schedule weight;
    Schedule temperature;
    NodeId teacher = kInvalidNode; // for logit terms
    HiddenSource studentHidden, teacherHidden;
    // TAID
    double taidStart = 0, taidEnd = 1, taidAlpha = 0, taidMomentum = 0;
};

struct OptimizerPlan
{
    std::string kind = "adamw";
    double lr = 3e-3, weightDecay = 0.01, beta1 = 0.9, beta2 = 0.999, momentum = 0.9;
    std::int64_t warmupSteps = 0;
    std::string schedule = "cosine";
    double minLrRatio = 0.1;
    double gradClip = 1.0;
    double lrAt(std::int64_t step, std::int64_t totalSteps) const;
};

// The Diagnostics node's settings (its defaults when the graph has none).
struct DiagnosticsPlan
{
    bool enabled = true;
    std::int64_t interval = 0; // alignment and diversity at most this often; 0 = every evaluation
    std::int64_t probeSamples = 4;
    std::int64_t paramTokens = 8;
    std::string paramScope = "last-block"; // head | last-block | all
    bool calibration = true;
    std::int64_t diversityPrompts = 8;
    std::int64_t diversityLength = 32;
    double diversityTemperature = 1.0;
};

struct Plan
{
    std::string templateName;
    DiagnosticsPlan diagnostics;
    data::DatasetConfig dataset;
    std::vector<TeacherPlan> teachers;
    // The student's sizes (for an initialised student: those of what it starts from; exact for
    // counts, the weights decide the rest, see train/studentinit.h).
    ModelShape student;
    StudentInit studentInit;
    std::vector<TermPlan> terms;
    double combineScale = 1.0;
    OptimizerPlan optimizer;
    std::int64_t steps = 0, batchSize = 0, seqLen = 0, evalInterval = 0, evalBatches = 0,
                 checkpointInterval = 0;
    std::string device = "auto";
    int threads = 0;
    std::int64_t seed = 0;
    double onPolicyFraction = 0;
    std::int64_t promptLen = 8;
    double sampleTemperature = 1.0;

    const TeacherPlan *teacher(NodeId id) const;
    bool needsStudentHidden() const;
    bool needsTeacherHidden(NodeId teacher) const;
    bool needsTopkCache() const;
};

// Applies RunOptions overrides to the graph's Settings node (so the stored graph is what ran).
Result<Graph> applyOverrides(const Graph &graph, const RunOptions &options);
// Validates and compiles. Errors name the node and parameter.
Result<Plan> compilePlan(const Graph &graph);

} // namespace distillery::core::train
