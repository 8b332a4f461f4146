#pragma once

// The run's teachers: loaded from files and checked against the data before the run exists,
// trained in-graph when their source is `train`, and (for top-k terms) read once into a cache.

#include "data/data.h"
#include "models/causallm.h"
#include "train/plan.h"
#include "train/runcontext.h"

#include <memory>
#include <optional>
#include <vector>

namespace distillery::core::train {

struct Teacher
{
    TeacherPlan plan;
    std::unique_ptr<models::CausalLm> model; // empty until trained for source = train
};

// Checkpoint, TorchScript and Hugging Face teachers, each checked against the dataset
// (vocabulary, length, hidden states when a hidden-state term reads them) and held in its
// precision. `progress` hears (teacher, tensors read, of how many) while a Hugging Face folder
// loads; false stops it (errc::kRunCancelled). Errors name the teacher and the file.
using LoadProgress = std::function<bool(const TeacherPlan &, std::int64_t done, std::int64_t total)>;
Result<std::vector<Teacher>> loadTeachers(const Plan &plan, const data::Dataset &data,
                                          const LoadProgress &progress = {});

// The weights' dtype a TeacherPlan's precision names.
torch::ScalarType teacherDtype(const TeacherPlan &plan);

// Source = train: next-token cross-entropy on the training split with AdamW, warm-up and
// cosine decay, then frozen and saved with the run (teachertraining.cpp). A resumed run reuses
// the teacher its first attempt saved, or continues from the training state saved every
// checkpoint_interval steps and on cancel. Returns false when cancelled, with where it stopped
// in `stoppedAt`.
bool trainTeacher(const RunContext &ctx, Teacher &teacher, std::string *stoppedAt = nullptr);

// The teacher's top-k log-probabilities of every training row for the first top-k term
// (topkcache.cpp); nullopt when no term needs one or when cancelled.
std::optional<data::TopKCache> buildTopkCache(const RunContext &ctx, std::vector<Teacher> &teachers);

} // namespace distillery::core::train
