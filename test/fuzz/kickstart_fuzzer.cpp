// libFuzzer target: any bytes given to the kickstart parser end in a Kickstart or a
// KickstartError — never a crash, a hang, a leak or another exception. What parses is also
// written back and parsed again.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <imgcreate/kickstart/writer.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace ks = imgcreate::kickstart;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    ks::ParseOptions opts;
    opts.follow_includes = false;   // no file or network access from fuzz input
    opts.process_ksappend = false;
    for (bool keep_going : {false, true}) {
        opts.keep_going = keep_going;
        try {
            const ks::Kickstart k = ks::parse_string(text, "fuzz.ks", opts);
            const std::string out = ks::to_string(k);
            try {
                (void)ks::parse_string(out, "fuzz-out.ks", opts);
            } catch (const imgcreate::KickstartError&) {
                // pykickstart's writer does not quote values; some written texts do not parse
            }
        } catch (const imgcreate::KickstartError&) {
        }
    }
    return 0;
}
