// imgcreate — kickstart word splitting. Kickstart lines are split like a POSIX shell splits
// words (the rules of Python's shlex in POSIX mode, which pykickstart uses): blanks separate
// words, '...' quotes literally, "..." quotes with only \" and \\ as escapes, a backslash outside
// quotes escapes the next character, and — when comments are on — an unquoted '#' ends the line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace imgcreate::kickstart {

// Why a line could not be split.
enum class SplitError { none, no_closing_quotation, no_escaped_character };

inline const char* to_message(SplitError e) {
    switch (e) {
        case SplitError::no_closing_quotation: return "No closing quotation";
        case SplitError::no_escaped_character: return "No escaped character";
        default: return "";
    }
}

namespace detail {
inline bool shlex_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
}  // namespace detail

// Splits `line` into `out` (cleared first). Returns SplitError::none on success.
inline SplitError split_words(std::string_view line, std::vector<std::string>& out, bool comments = true) {
    out.clear();
    std::string token;
    bool in_token = false;  // a word is being built (possibly empty, from '' or "")
    std::size_t i = 0;
    const std::size_t n = line.size();
    while (i < n) {
        char c = line[i];
        if (detail::shlex_blank(c)) {
            if (in_token) {
                out.push_back(std::move(token));
                token.clear();
                in_token = false;
            }
            ++i;
            continue;
        }
        if (comments && c == '#') {
            // the rest of this physical line is a comment
            std::size_t nl = line.find('\n', i);
            if (in_token) {
                out.push_back(std::move(token));
                token.clear();
                in_token = false;
            }
            if (nl == std::string_view::npos) break;
            i = nl + 1;
            continue;
        }
        in_token = true;
        if (c == '\\') {
            if (i + 1 >= n) return SplitError::no_escaped_character;
            token += line[i + 1];
            i += 2;
            continue;
        }
        if (c == '\'') {
            std::size_t end = line.find('\'', i + 1);
            if (end == std::string_view::npos) return SplitError::no_closing_quotation;
            token.append(line.substr(i + 1, end - i - 1));
            i = end + 1;
            continue;
        }
        if (c == '"') {
            ++i;
            for (;;) {
                if (i >= n) return SplitError::no_closing_quotation;
                char q = line[i];
                if (q == '"') {
                    ++i;
                    break;
                }
                if (q == '\\') {
                    if (i + 1 >= n) return SplitError::no_escaped_character;
                    char e = line[i + 1];
                    if (e != '"' && e != '\\') token += '\\';
                    token += e;
                    i += 2;
                    continue;
                }
                token += q;
                ++i;
            }
            continue;
        }
        // plain run of word characters
        std::size_t j = i;
        while (j < n) {
            char d = line[j];
            if (detail::shlex_blank(d) || d == '\\' || d == '\'' || d == '"' || (comments && d == '#')) break;
            ++j;
        }
        token.append(line.substr(i, j - i));
        i = j;
    }
    if (in_token) out.push_back(std::move(token));
    return SplitError::none;
}

inline std::vector<std::string> split_words(std::string_view line, bool comments = true) {
    std::vector<std::string> out;
    split_words(line, out, comments);
    return out;
}

// Quotes `s` so that split_words gives it back as one word.
inline std::string quote_word(std::string_view s) {
    if (!s.empty() && s.find_first_of(" \t\r\n'\"\\#") == std::string_view::npos) return std::string(s);
    std::string q = "'";
    for (char c : s) {
        if (c == '\'') q += "'\"'\"'";
        else q += c;
    }
    return q + "'";
}

}  // namespace imgcreate::kickstart
