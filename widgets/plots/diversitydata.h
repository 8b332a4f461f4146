#pragma once

// What the diversity view reads from the store, per run: the diversity measures of every
// evaluation (diag/diversity/...), both KL series of the teacher-hacking plot with their
// power-law fits, the step the trainer flagged (run meta teacher_hacking_step), and the text
// samples of one evaluation. Reads are incremental: only the rows after those held.

#include "distillery/core/diversity.h"
#include "distillery/core/store.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace distillery::widgets {

// One diversity measure as the sample browser shows it.
struct DiversityMeasure
{
    const char *key;
    const char *label;
    int decimals;
    const char *unit;
};
// distinct-1/2/3, self-BLEU-4, unique fraction, token entropy, mean length, in display order.
const std::vector<DiversityMeasure> &diversityMeasures();

struct DiversityRunData
{
    std::map<std::string, std::vector<core::ScalarPoint>> measures; // by scalar key
    std::vector<core::ScalarPoint> oracle, teacher;                 // eval/kl_{oracle,teacher}_student
    core::PowerLawFit oracleFit, teacherFit;
    std::int64_t hackingStep = -1; // steps done; -1 when not flagged
    bool metaRead = false;

    // Evaluations that have diversity measures, ascending.
    std::vector<std::int64_t> steps() const;
    // The value of a measure at a step (nullptr when not stored).
    const core::ScalarPoint *measureAt(const std::string &key, std::int64_t step) const;
};

struct DiversityUpdate
{
    bool measures = false; // new evaluations with diversity measures
    bool kl = false;       // the KL series, their fits or the flag changed
};

// Appends what the store has beyond `data` for `run`.
DiversityUpdate updateDiversityRun(const core::StoreReader &reader, core::RunId run,
                                   DiversityRunData &data);

// The student's samples of one evaluation, by index; empty when none.
std::vector<std::string> loadSamples(const core::StoreReader &reader, core::RunId run, std::int64_t step);

// x = steps done (the stored step) and y = KL, over the points a log–log plot can show.
void logLogPoints(const std::vector<core::ScalarPoint> &points, std::vector<double> &x,
                  std::vector<double> &y);

} // namespace distillery::widgets
