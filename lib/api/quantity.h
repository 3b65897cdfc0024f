#pragma once
// Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource), exact.

#include <cstdint>
#include <string>
#include <string_view>

namespace kai::api {

/// An exact quantity: value held in nano-units (1e-9) as a 128-bit integer, plus the
/// format it was written in, so `canonical()` prints what Kubernetes prints:
///   "500m" -> "500m", "1.5" -> "1500m", "2" -> "2", "1Gi" -> "1Gi", "1G" -> "1G",
///   "1e3" -> "1e3", "0.5Gi" -> "512Mi", "100Mi" -> "100Mi", "1000" -> "1k", "1024Mi" -> "1Gi".
/// Values below 1n are rounded up to 1n as Kubernetes does (away from zero).
///
/// Like Kubernetes, a parsed quantity already in canonical form keeps its text ("500m", "1Gi",
/// "1e3", but also "+1", "01" and "1.500", which Kubernetes echoes back unchanged); arithmetic
/// drops it. Differences from Kubernetes: magnitudes must fit in 128-bit nano-units (about
/// 1.7e29 units; larger decimal values throw kai::Error Invalid "quantity ... is out of range"
/// where Kubernetes keeps arbitrary precision), and value()/milli_value() saturate at the int64
/// limits where Kubernetes' overflow is undefined.
class Quantity {
 public:
  enum class Format { DecimalSI, BinarySI, DecimalExponent };

  Quantity() = default;
  /// Throws kai::Error Invalid: `quantities must match the regular expression
  /// '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'` for bad text, or (as Kubernetes) `unable to
  /// parse quantity's suffix` when the text has the shape but an unknown suffix ("1kk", "--1").
  static Quantity parse(std::string_view text);
  /// Like parse, false instead of throwing.
  static bool try_parse(std::string_view text, Quantity& out);
  static Quantity from_milli(int64_t milli, Format f = Format::DecimalSI);
  static Quantity from_int(int64_t units, Format f = Format::DecimalSI);

  /// Canonical text, exactly as Kubernetes' Quantity.String().
  std::string canonical() const;
  /// Value in milli-units rounded up, away from zero (Kubernetes MilliValue()); saturates.
  int64_t milli_value() const;
  /// Value in units rounded up, away from zero (Kubernetes Value()); saturates.
  int64_t value() const;
  /// Nano-units, exact.
  __int128 nano() const { return nano_; }
  Format format() const { return format_; }
  bool is_zero() const { return nano_ == 0; }
  bool is_negative() const { return nano_ < 0; }

  /// Adds / subtracts exactly; a zero left side takes the right side's format (as Kubernetes).
  /// Throws kai::Error Invalid if the result leaves the 128-bit range.
  Quantity& operator+=(const Quantity& o);
  Quantity& operator-=(const Quantity& o);
  friend Quantity operator+(Quantity a, const Quantity& b) { return a += b; }
  friend Quantity operator-(Quantity a, const Quantity& b) { return a -= b; }
  friend bool operator==(const Quantity& a, const Quantity& b) { return a.nano_ == b.nano_; }
  friend auto operator<=>(const Quantity& a, const Quantity& b) { return a.nano_ <=> b.nano_; }

 private:
  __int128 nano_ = 0;
  Format format_ = Format::DecimalSI;
  std::string text_;  ///< the parsed text when Kubernetes would reuse it as String(); else empty
};

}  // namespace kai::api
