// A C interface to Debian's libsentencepiece, built as a module that the engine loads with
// dlopen(RTLD_LOCAL | RTLD_DEEPBIND) when it opens a tokenizer.model (data/sentencepiece.cpp).
//
// libsentencepiece carries its own copy of protobuf-lite and exports its symbols; linked into a
// program that also loads libprotobuf (ONNX, LibTorch), the two copies interpose each other and
// the program crashes before main. Loaded locally and deep-bound, the library keeps its copy to
// itself. Only C types cross this boundary.

#include <sentencepiece_processor.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

void setError(char *err, std::size_t n, const std::string &message)
{
    if (err && n > 0) {
        std::strncpy(err, message.c_str(), n - 1);
        err[n - 1] = '\0';
    }
}

sentencepiece::SentencePieceProcessor *processor(void *h)
{
    return static_cast<sentencepiece::SentencePieceProcessor *>(h);
}

} // namespace

extern "C" {

__attribute__((visibility("default"))) void *dspm_load(const char *bytes, std::size_t n, char *err, std::size_t errn)
{
    auto *sp = new sentencepiece::SentencePieceProcessor();
    const auto st = sp->LoadFromSerializedProto(std::string_view(bytes, n));
    if (!st.ok()) {
        setError(err, errn, st.ToString());
        delete sp;
        return nullptr;
    }
    return sp;
}

__attribute__((visibility("default"))) void dspm_free(void *h)
{
    delete processor(h);
}

__attribute__((visibility("default"))) int dspm_size(void *h)
{
    return processor(h)->GetPieceSize();
}

// 0: BOS, 1: EOS, 2: PAD, 3: UNK (-1 where the model has none).
__attribute__((visibility("default"))) int dspm_special(void *h, int which)
{
    auto *sp = processor(h);
    return which == 0 ? sp->bos_id() : which == 1 ? sp->eos_id() : which == 2 ? sp->pad_id() : sp->unk_id();
}

// Bit 0: a control piece, bit 1: the unknown piece, bit 2: a byte piece.
__attribute__((visibility("default"))) int dspm_type(void *h, int id)
{
    auto *sp = processor(h);
    return (sp->IsControl(id) ? 1 : 0) | (sp->IsUnknown(id) ? 2 : 0) | (sp->IsByte(id) ? 4 : 0);
}

// The piece's text into out (up to n bytes); returns its length.
__attribute__((visibility("default"))) std::size_t dspm_piece(void *h, int id, char *out, std::size_t n)
{
    const std::string &p = processor(h)->IdToPiece(id);
    std::memcpy(out, p.data(), std::min(n, p.size()));
    return p.size();
}

// The ids of text into *ids (malloc'd; dspm_release frees it); 0 on success.
__attribute__((visibility("default"))) int dspm_encode(void *h, const char *text, std::size_t n, int **ids,
                                                       std::size_t *count, char *err, std::size_t errn)
{
    std::vector<int> out;
    const auto st = processor(h)->Encode(std::string_view(text, n), &out);
    if (!st.ok()) {
        setError(err, errn, st.ToString());
        return 1;
    }
    *count = out.size();
    *ids = static_cast<int *>(std::malloc(std::max<std::size_t>(1, out.size()) * sizeof(int)));
    if (!*ids)
        return 1;
    std::memcpy(*ids, out.data(), out.size() * sizeof(int));
    return 0;
}

// The text of ids into *text (malloc'd); 0 on success.
__attribute__((visibility("default"))) int dspm_decode(void *h, const int *ids, std::size_t count, char **text,
                                                       std::size_t *len, char *err, std::size_t errn)
{
    std::string out;
    const auto st = processor(h)->Decode(std::vector<int>(ids, ids + count), &out);
    if (!st.ok()) {
        setError(err, errn, st.ToString());
        return 1;
    }
    *len = out.size();
    *text = static_cast<char *>(std::malloc(std::max<std::size_t>(1, out.size())));
    if (!*text)
        return 1;
    std::memcpy(*text, out.data(), out.size());
    return 0;
}

__attribute__((visibility("default"))) void dspm_release(void *p)
{
    std::free(p);
}

} // extern "C"
