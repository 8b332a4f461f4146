#pragma once

// What the token view reads from the store: the probe sequences (run meta probe/<i>/tokens,
// with probe/token_format saying whether ids are bytes of text or oracle symbols) and the
// per-token diagnostics of one probe at one step. Position t of a probe predicts token t + 1.

#include "distillery/core/store.h"

#include <QString>
#include <QStringList>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace distillery::widgets {

struct ProbeTokens
{
    int sampleCount = 0;              // probe sequences the run stored
    bool bytes = false;               // ids are bytes of UTF-8 text
    std::vector<std::int64_t> ids;    // the chosen probe's T + 1 tokens
    QStringList labels;               // how each token shows (a multi-byte character on its first byte)
    std::vector<bool> newlines;       // a line break follows the token
    QStringList vocabPieces;          // subword corpora: every token id's piece, as shown
};

// One token as shown: a byte as its character (↵, ␣, ⇥ for controls, \xNN otherwise), an oracle
// symbol as "t<id>". newline, when given, says whether a line break follows.
QString probeTokenLabel(std::int64_t id, bool bytes, bool *newline = nullptr);
// Any token of `probe`: its piece where the run stored the vocabulary's, else probeTokenLabel.
QString probeTokenLabel(const ProbeTokens &probe, std::int64_t id, bool *newline = nullptr);

// The probe `sample` of a run; sampleCount is set even when that probe does not exist.
ProbeTokens loadProbeTokens(const core::StoreReader &reader, core::RunId run, int sample);

// The arrays of `names` stored for (run, step, sample); names without data are left out.
std::map<std::string, std::vector<float>> loadTokenArrays(const core::StoreReader &reader,
                                                          core::RunId run, std::int64_t step,
                                                          int sample,
                                                          const std::vector<std::string> &names);

// Steps that have per-token diagnostics (the "kl" array), ascending.
std::vector<std::int64_t> tokenDiagnosticSteps(const core::StoreReader &reader, core::RunId run);

} // namespace distillery::widgets
