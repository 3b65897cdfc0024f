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
/// Values below 1n are rounded up to 1n as Kubernetes does.
class Quantity {
 public:
  enum class Format { DecimalSI, BinarySI, DecimalExponent };

  Quantity() = default;
  /// Throws kai::Error Invalid: `quantities must match the regular expression
  /// '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'` for bad text.
  static Quantity parse(std::string_view text);
  /// Like parse, false instead of throwing.
  static bool try_parse(std::string_view text, Quantity& out);
  static Quantity from_milli(int64_t milli, Format f = Format::DecimalSI);
  static Quantity from_int(int64_t units, Format f = Format::DecimalSI);

  /// Canonical text, exactly as Kubernetes' Quantity.String().
  std::string canonical() const;
  /// Value in milli-units rounded up (Kubernetes MilliValue()).
  int64_t milli_value() const;
  /// Value in units rounded up (Kubernetes Value()).
  int64_t value() const;
  /// Nano-units, exact.
  __int128 nano() const { return nano_; }
  Format format() const { return format_; }
  bool is_zero() const { return nano_ == 0; }
  bool is_negative() const { return nano_ < 0; }

  Quantity& operator+=(const Quantity& o);
  Quantity& operator-=(const Quantity& o);
  friend Quantity operator+(Quantity a, const Quantity& b) { return a += b; }
  friend Quantity operator-(Quantity a, const Quantity& b) { return a -= b; }
  friend bool operator==(const Quantity& a, const Quantity& b) { return a.nano_ == b.nano_; }
  friend auto operator<=>(const Quantity& a, const Quantity& b) { return a.nano_ <=> b.nano_; }

 private:
  __int128 nano_ = 0;
  Format format_ = Format::DecimalSI;
};

}  // namespace kai::api
