#include "lib/api/quantity.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "lib/api/error.h"
#include "lib/api/text_util.h"

namespace kai::api {
namespace {

using u128 = unsigned __int128;
using i128 = __int128;

constexpr i128 kNanoPerUnit = 1'000'000'000;
constexpr i128 kMaxI128 = static_cast<i128>(~static_cast<u128>(0) >> 1);
// Kubernetes caps BinarySI quantities at 2^63-1 units.
constexpr i128 kBinaryCapNano = static_cast<i128>(std::numeric_limits<int64_t>::max()) * kNanoPerUnit;

const char* const kErrFormatWrong =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const char* const kErrSuffix = "unable to parse quantity's suffix";

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The pieces Kubernetes' parseQuantityString finds.
struct Pieces {
  bool positive = true;
  std::string_view num;     // leading zeros stripped; "0" when nothing is left
  std::string_view denom;   // digits after '.', may be empty
  std::string_view suffix;  // everything after the number
};

// A transcription of parseQuantityString's scanner (same acceptance, same corner cases: "-",
// "." and "1." parse; the numerator keeps no leading zeros).
std::optional<Pieces> scan(std::string_view s) {
  Pieces p;
  std::size_t pos = 0, end = s.size();
  if (pos < end && (s[0] == '-' || s[0] == '+')) {
    p.positive = s[0] == '+';
    ++pos;
  }
  while (pos < end && s[pos] == '0') ++pos;
  if (pos >= end) {
    p.num = "0";
    return p;
  }
  std::size_t start = pos;
  while (pos < end && is_digit(s[pos])) ++pos;
  p.num = s.substr(start, pos - start);
  if (pos >= end) return p;
  if (p.num.empty()) p.num = "0";
  if (s[pos] == '.') {
    ++pos;
    start = pos;
    while (pos < end && is_digit(s[pos])) ++pos;
    p.denom = s.substr(start, pos - start);
    if (pos >= end) return p;
  }
  std::size_t suffix_start = pos;
  while (pos < end && std::string_view("eEinumkKMGTP").find(s[pos]) != std::string_view::npos) ++pos;
  if (pos < end && (s[pos] == '-' || s[pos] == '+')) ++pos;
  while (pos < end && is_digit(s[pos])) ++pos;
  if (pos < end) return std::nullopt;  // a character that no part of the grammar takes
  p.suffix = s.substr(suffix_start);
  return p;
}

struct Suffix {
  int base;      // 10 or 2
  int32_t exponent;
  Quantity::Format format;
};

// Go's strconv.ParseInt(s, 10, 64): optional sign, at least one digit, no overflow.
std::optional<int64_t> parse_int64(std::string_view s) {
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  u128 v = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
    if (v > static_cast<u128>(std::numeric_limits<int64_t>::max()) + 1) return std::nullopt;
  }
  if (!neg && v > static_cast<u128>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return neg ? static_cast<int64_t>(-static_cast<i128>(v)) : static_cast<int64_t>(v);
}

std::optional<Suffix> interpret(std::string_view s) {
  using F = Quantity::Format;
  static constexpr std::pair<std::string_view, int32_t> kDecimal[] = {
      {"n", -9}, {"u", -6}, {"m", -3}, {"", 0}, {"k", 3}, {"M", 6}, {"G", 9}, {"T", 12}, {"P", 15}, {"E", 18}};
  static constexpr std::pair<std::string_view, int32_t> kBinary[] = {
      {"Ki", 10}, {"Mi", 20}, {"Gi", 30}, {"Ti", 40}, {"Pi", 50}, {"Ei", 60}};
  for (auto [text, exp] : kDecimal) {
    if (s == text) return Suffix{10, exp, F::DecimalSI};
  }
  for (auto [text, exp] : kBinary) {
    if (s == text) return Suffix{2, exp, F::BinarySI};
  }
  if (s.size() > 1 && (s[0] == 'e' || s[0] == 'E')) {
    auto v = parse_int64(s.substr(1));
    if (!v) return std::nullopt;
    // Kubernetes truncates the parsed exponent to int32.
    return Suffix{10, static_cast<int32_t>(*v), F::DecimalExponent};
  }
  return std::nullopt;
}

// Decimal digit string times a small factor.
void multiply_digits(std::string& digits, unsigned factor) {
  unsigned carry = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    unsigned v = static_cast<unsigned>(*it - '0') * factor + carry;
    *it = static_cast<char>('0' + v % 10);
    carry = v / 10;
  }
  while (carry > 0) {
    digits.insert(digits.begin(), static_cast<char>('0' + carry % 10));
    carry /= 10;
  }
}

std::optional<u128> parse_u128(std::string_view digits) {
  u128 v = 0;
  for (char c : digits) {
    unsigned d = static_cast<unsigned>(c - '0');
    if (v > (static_cast<u128>(kMaxI128) - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

// |digits| * 10^shift, rounded up when digits fall below 10^0; nullopt past the int128 range.
std::optional<i128> scaled_magnitude(std::string digits, int64_t shift) {
  auto first = digits.find_first_not_of('0');
  if (first == std::string::npos) return 0;
  digits.erase(0, first);
  if (shift >= 0) {
    if (static_cast<int64_t>(digits.size()) + shift > 39) return std::nullopt;
    digits.append(static_cast<std::size_t>(shift), '0');
    auto v = parse_u128(digits);
    if (!v) return std::nullopt;
    return static_cast<i128>(*v);
  }
  int64_t keep = static_cast<int64_t>(digits.size()) + shift;
  std::string_view whole = keep > 0 ? std::string_view(digits).substr(0, static_cast<std::size_t>(keep)) : "";
  std::string_view fraction = std::string_view(digits).substr(whole.size());
  bool round_up = fraction.find_first_not_of('0') != std::string_view::npos;
  if (whole.size() > 39) return std::nullopt;
  auto v = parse_u128(whole);
  if (!v) return std::nullopt;
  if (round_up) {
    if (*v == static_cast<u128>(kMaxI128)) return std::nullopt;
    *v += 1;
  }
  return static_cast<i128>(*v);
}

// Would Kubernetes' int64 fast path keep the input string as the quantity's String()?
bool kubernetes_reuses_text(const Pieces& p, const Suffix& sfx) {
  int64_t precision = 0, scale = 0;
  int64_t mantissa = 1;
  if (sfx.format == Quantity::Format::BinarySI) {
    if (!p.denom.empty()) return false;
    mantissa = int64_t{1} << sfx.exponent;
    precision = 15 - static_cast<int64_t>(p.num.size()) - sfx.exponent * 3 / 10 - 1;
  } else {
    scale = sfx.exponent;
    precision = 18 - static_cast<int64_t>(p.num.size() + p.denom.size());
  }
  if (precision < 0) return false;
  scale -= static_cast<int64_t>(p.denom.size());
  if (scale < -9) return false;
  std::string shifted = std::string(p.num) + std::string(p.denom);
  auto value = parse_int64(shifted);
  if (!value) return false;
  int64_t product = 0;
  if (__builtin_mul_overflow(*value, mantissa, &product)) return false;
  if (sfx.format == Quantity::Format::BinarySI) return sfx.exponent % 10 == 0 && (*value & 0x07) != 0;
  return scale % 3 == 0 && !(shifted.size() >= 3 && shifted.ends_with("000")) && shifted[0] != '0';
}

std::string to_string(i128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  u128 u = neg ? static_cast<u128>(-(v + 1)) + 1 : static_cast<u128>(v);
  std::string out;
  while (u > 0) {
    out += static_cast<char>('0' + static_cast<unsigned>(u % 10));
    u /= 10;
  }
  if (neg) out += '-';
  std::reverse(out.begin(), out.end());
  return out;
}

// Canonical decimal form: mantissa with no trailing zeros, exponent lowered to a multiple of 3.
std::string canonical_decimal(i128 nano, Quantity::Format format) {
  i128 m = nano;
  int exponent = -9;
  while (m % 10 == 0) {
    m /= 10;
    ++exponent;
  }
  while (exponent % 3 != 0) {
    m *= 10;
    --exponent;
  }
  std::string suffix;
  bool found = false;
  if (format == Quantity::Format::DecimalSI) {
    static constexpr std::pair<int, const char*> kSuffixes[] = {
        {-9, "n"}, {-6, "u"}, {-3, "m"}, {0, ""}, {3, "k"}, {6, "M"}, {9, "G"}, {12, "T"}, {15, "P"}, {18, "E"}};
    for (auto [e, text] : kSuffixes) {
      if (e == exponent) {
        suffix = text;
        found = true;
      }
    }
  }
  // DecimalSI has nothing past "E": Kubernetes falls back to exponent notation ("1000E" -> "1e21").
  if (!found && exponent != 0) suffix = "e" + std::to_string(exponent);
  return to_string(m) + suffix;
}

Error format_error() { return Error::invalid(kErrFormatWrong); }

}  // namespace

Quantity Quantity::parse(std::string_view text) {
  if (text.empty()) throw format_error();
  Quantity q;
  if (text == "0") {
    q.text_ = "0";
    return q;
  }
  auto pieces = scan(text);
  if (!pieces) throw format_error();
  auto sfx = interpret(pieces->suffix);
  if (!sfx) throw Error::invalid(kErrSuffix);

  std::string digits = std::string(pieces->num) + std::string(pieces->denom);
  int64_t shift = 9 - static_cast<int64_t>(pieces->denom.size());
  if (sfx->base == 2) {
    for (int32_t e = 0; e < sfx->exponent; e += 10) multiply_digits(digits, 1024);
  } else {
    shift += sfx->exponent;
  }
  auto magnitude = scaled_magnitude(std::move(digits), shift);
  q.format_ = sfx->format;
  if (sfx->format == Format::BinarySI) {
    if (!magnitude || *magnitude > kBinaryCapNano) magnitude = kBinaryCapNano;
    // Kubernetes shows fractions of a unit in DecimalSI rather than rounding them away.
    if (*magnitude > 0 && *magnitude < kNanoPerUnit) q.format_ = Format::DecimalSI;
  }
  if (!magnitude) {
    throw Error::invalid("quantity " + text_detail::go_quote(text) + " is out of range");
  }
  q.nano_ = pieces->positive ? *magnitude : -*magnitude;
  if (kubernetes_reuses_text(*pieces, *sfx)) q.text_ = std::string(text);
  return q;
}

bool Quantity::try_parse(std::string_view text, Quantity& out) {
  try {
    out = parse(text);
    return true;
  } catch (const Error&) {
    return false;
  }
}

Quantity Quantity::from_milli(int64_t milli, Format f) {
  Quantity q;
  q.nano_ = static_cast<i128>(milli) * 1'000'000;
  q.format_ = f;
  return q;
}

Quantity Quantity::from_int(int64_t units, Format f) {
  Quantity q;
  q.nano_ = static_cast<i128>(units) * kNanoPerUnit;
  q.format_ = f;
  return q;
}

std::string Quantity::canonical() const {
  if (!text_.empty()) return text_;
  if (nano_ == 0) return "0";
  if (format_ != Format::BinarySI) return canonical_decimal(nano_, format_);
  i128 magnitude = nano_ < 0 ? -nano_ : nano_;
  // Below 1Ki, or not a whole number of units: Kubernetes prints DecimalSI.
  if (magnitude < 1024 * kNanoPerUnit || nano_ % kNanoPerUnit != 0) return canonical_decimal(nano_, Format::DecimalSI);
  i128 units = nano_ / kNanoPerUnit;
  int steps = 0;
  while ((units >= 1024 || units <= -1024) && units % 1024 == 0) {
    units /= 1024;
    ++steps;
  }
  static constexpr const char* kSuffixes[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  // Past "Ei" (only reachable by adding) Kubernetes would drop the suffix; print decimal instead.
  if (steps > 6) return canonical_decimal(nano_, Format::DecimalSI);
  return to_string(units) + kSuffixes[steps];
}

namespace {

int64_t round_away_and_saturate(i128 nano, i128 divisor) {
  i128 q = nano / divisor;
  if (nano % divisor != 0) q += nano < 0 ? -1 : 1;
  if (q > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
  if (q < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(q);
}

}  // namespace

int64_t Quantity::milli_value() const { return round_away_and_saturate(nano_, 1'000'000); }

int64_t Quantity::value() const { return round_away_and_saturate(nano_, kNanoPerUnit); }

Quantity& Quantity::operator+=(const Quantity& o) {
  text_.clear();
  if (nano_ == 0) format_ = o.format_;
  i128 sum = 0;
  if (__builtin_add_overflow(nano_, o.nano_, &sum) || sum == -kMaxI128 - 1) {
    throw Error::invalid("quantity sum " + canonical() + " + " + o.canonical() + " is out of range");
  }
  nano_ = sum;
  return *this;
}

Quantity& Quantity::operator-=(const Quantity& o) {
  text_.clear();
  if (nano_ == 0) format_ = o.format_;
  i128 diff = 0;
  if (__builtin_sub_overflow(nano_, o.nano_, &diff) || diff == -kMaxI128 - 1) {
    throw Error::invalid("quantity difference " + canonical() + " - " + o.canonical() + " is out of range");
  }
  nano_ = diff;
  return *this;
}

}  // namespace kai::api
