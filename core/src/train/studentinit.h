#pragma once

// The student with its first weights (Student.init): fresh (scratch), every k-th layer of the
// one teacher with its embeddings and head (teacher-layers, as DistilBERT), or a Hugging Face
// folder (hf). The trainer builds it once the teachers are ready; the exporter and
// resume build the same architecture and then read the saved weights into it.

#include "models/causallm.h"
#include "train/plan.h"
#include "train/teachers.h"

#include <memory>
#include <vector>

namespace distillery::core::train {

// `teachers`: the run's ready teachers (teacher-layers copies from them); nullptr when only the
// architecture matters (the weights are read from a checkpoint next), then a Hugging Face
// teacher's folder is read for its layers and a teacher trained in the graph is not needed.
// Errors name the Student node's parameter and the file.
Result<std::unique_ptr<models::CausalLm>> makeStudent(const Plan &plan, const std::vector<Teacher> *teachers);

// The teacher's layers a teacher-layers student keeps: 0, k, 2k, ... below `layers`.
std::vector<std::int64_t> keptLayers(std::int64_t layers, std::int64_t stride);

} // namespace distillery::core::train
