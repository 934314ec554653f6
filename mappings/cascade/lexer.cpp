// The lexer of the expression grammar: names, numbers, operators; keywords classified.
#include "mappings/cascade/lexer.h"

#include <cctype>
#include <cstdio>
#include <utility>

#include "mappings/cascade/parser_detail.h"

namespace cascade::detail {

namespace {

std::string describe_char(char ch) {
  const unsigned char u = static_cast<unsigned char>(ch);
  if (std::isprint(u)) return std::string("'") + ch + "'";
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "byte 0x%02X", u);
  return buffer;
}

class Lexer {
 public:
  Lexer(const std::string& text, SourceLocation base) : text_(text), base_(std::move(base)) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    size_t i = 0;
    size_t last_end = 0;  // just past the last token: where "end of line" is reported
    while (i < text_.size()) {
      const char ch = text_[i];
      if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
        ++i;
        continue;
      }
      if (ch == '#') break;  // comment to the end
      Token t;
      t.offset = static_cast<int>(i);
      if (std::isalpha(static_cast<unsigned char>(ch))) {
        size_t j = i;
        while (j < text_.size() && is_name_char(text_[j])) ++j;
        t.text = text_.substr(i, j - i);
        t.kind = classify_name(t.text, t.offset);
        i = j;
      } else if (std::isdigit(static_cast<unsigned char>(ch)) ||
                 (ch == '.' && i + 1 < text_.size() &&
                  std::isdigit(static_cast<unsigned char>(text_[i + 1])))) {
        size_t j = i;
        while (j < text_.size() && std::isdigit(static_cast<unsigned char>(text_[j]))) ++j;
        if (j < text_.size() && text_[j] == '.') {
          ++j;
          while (j < text_.size() && std::isdigit(static_cast<unsigned char>(text_[j]))) ++j;
        }
        if (j < text_.size() && (text_[j] == 'e' || text_[j] == 'E')) {
          size_t k = j + 1;
          if (k < text_.size() && (text_[k] == '+' || text_[k] == '-')) ++k;
          if (k < text_.size() && std::isdigit(static_cast<unsigned char>(text_[k]))) {
            while (k < text_.size() && std::isdigit(static_cast<unsigned char>(text_[k]))) ++k;
            j = k;
          }
        }
        if (j < text_.size() && (is_name_char(text_[j]) || text_[j] == '.')) {
          size_t k = j;
          while (k < text_.size() && (is_name_char(text_[k]) || text_[k] == '.')) ++k;
          throw Error(at(t.offset), "malformed number '" + text_.substr(i, k - i) + "'");
        }
        t.kind = Tok::Number;
        t.text = text_.substr(i, j - i);
        i = j;
      } else {
        const char next = i + 1 < text_.size() ? text_[i + 1] : '\0';
        auto two = [&](Tok kind, const char* s) {
          t.kind = kind;
          t.text = s;
          i += 2;
        };
        auto one = [&](Tok kind) {
          t.kind = kind;
          t.text = std::string(1, ch);
          i += 1;
        };
        switch (ch) {
          case '[': one(Tok::LBracket); break;
          case ']': one(Tok::RBracket); break;
          case '(': one(Tok::LParen); break;
          case ')': one(Tok::RParen); break;
          case ',': one(Tok::Comma); break;
          case ':': one(Tok::Colon); break;
          case '+': one(Tok::Plus); break;
          case '-': one(Tok::Minus); break;
          case '*': one(Tok::Star); break;
          case '/': one(Tok::Slash); break;
          case '%': one(Tok::Percent); break;
          case '=':
            if (next == '=') two(Tok::Eq, "==");
            else one(Tok::Assign);
            break;
          case '!':
            if (next == '=') two(Tok::Ne, "!=");
            else throw Error(at(t.offset), "unexpected character '!' (did you mean '!='?)");
            break;
          case '<':
            if (next == '=') two(Tok::Le, "<=");
            else one(Tok::Lt);
            break;
          case '>':
            if (next == '=') two(Tok::Ge, ">=");
            else one(Tok::Gt);
            break;
          default:
            throw Error(at(t.offset), "unexpected character " + describe_char(ch));
        }
      }
      last_end = i;
      out.push_back(std::move(t));
    }
    Token end;
    end.kind = Tok::End;
    end.offset = static_cast<int>(last_end);
    out.push_back(end);
    return out;
  }

 private:
  SourceLocation at(int offset) const {
    SourceLocation loc = base_;
    if (loc.known()) loc.column += offset;
    return loc;
  }

  Tok classify_name(const std::string& name, int offset) const {
    bool upper = false, lower = false;
    for (char ch : name) {
      if (std::isupper(static_cast<unsigned char>(ch))) upper = true;
      if (std::islower(static_cast<unsigned char>(ch))) lower = true;
    }
    if (upper && lower)
      throw Error(at(offset), "name '" + name +
                                  "' mixes upper- and lower-case letters (tensors, ranks and "
                                  "shapes are upper-case; variables, parameters and "
                                  "functions lower-case)");
    if (upper) return Tok::Upper;
    if (name == "where") return Tok::Where;
    if (name == "and") return Tok::And;
    if (name == "init") return Tok::Init;
    if (name == "inf") return Tok::Inf;
    return Tok::Lower;
  }

  const std::string& text_;
  SourceLocation base_;
};

}  // namespace

std::vector<Token> lex(const std::string& text, const SourceLocation& where) {
  return Lexer(text, where).run();
}

}  // namespace cascade::detail
