#pragma once
// Volcano's api.Resource (pkg/scheduler/api/resource_info.go) over a dense, per-session set of
// resource dimensions: 0 is cpu (milli-cores), 1 is memory (bytes), 2.. are scalar resources
// (extended resources, hugepages, ephemeral-storage) in milli-units, as Volcano keeps them.
// The pod count is not a dimension: Volcano keeps it apart (MaxTaskNum) and so do we.
//
// Scalars carry presence, because Volcano's semantics depend on whether a map key exists
// (LessEqual with an Infinity default skips absent dimensions; helpers.Min drops every scalar when
// one side has none). Values are doubles, as in Volcano, so that quota arithmetic (weight
// fractions, water-filling) rounds the same way.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace kai::scheduler {

/// Differences below this are ignored in comparisons (Volcano's minResource: 0.1 milli-cpu or byte).
inline constexpr double kMinResource = 0.1;
/// At most this many dimensions in a session (cpu, memory and 62 scalar resources).
inline constexpr int kMaxDims = 64;

/// The values of a Resource: up to kInline dimensions (cpu, memory and a few scalars: the usual
/// case) live inside the object, more on the heap. Sessions copy and add Resources in their
/// inner loops, where an allocation per copy used to cost more than the arithmetic.
class ResourceValues {
 public:
  static constexpr std::size_t kInline = 6;
  ResourceValues() = default;
  ResourceValues(std::size_t n, double x) : n_(n) {
    if (n_ > kInline) heap_ = new double[n_];
    std::fill(data(), data() + n_, x);
  }
  ResourceValues(const ResourceValues& o) : n_(o.n_) {
    if (n_ > kInline) heap_ = new double[n_];
    std::copy(o.data(), o.data() + n_, data());
  }
  ResourceValues(ResourceValues&& o) noexcept { take(o); }
  ResourceValues& operator=(const ResourceValues& o) {
    if (this == &o) return *this;
    if (o.n_ > kInline && o.n_ != n_) {
      delete[] heap_;
      heap_ = new double[o.n_];
    } else if (o.n_ <= kInline) {
      delete[] heap_;
      heap_ = nullptr;
    }
    n_ = o.n_;
    std::copy(o.data(), o.data() + n_, data());
    return *this;
  }
  ResourceValues& operator=(ResourceValues&& o) noexcept {
    if (this == &o) return *this;
    delete[] heap_;
    heap_ = nullptr;
    take(o);
    return *this;
  }
  ~ResourceValues() { delete[] heap_; }

  std::size_t size() const { return n_; }
  double& operator[](std::size_t i) { return data()[i]; }
  double operator[](std::size_t i) const { return data()[i]; }
  friend bool operator==(const ResourceValues& a, const ResourceValues& b) {
    return a.n_ == b.n_ && std::equal(a.data(), a.data() + a.n_, b.data());
  }

 private:
  /// Moves o's values here (this holds no heap block); o is left empty.
  void take(ResourceValues& o) noexcept {
    n_ = o.n_;
    if (n_ > kInline) {
      heap_ = o.heap_;
      o.heap_ = nullptr;
    } else {
      std::copy(o.inline_, o.inline_ + n_, inline_);
    }
    o.n_ = 0;
  }
  double* data() { return n_ > kInline ? heap_ : inline_; }
  const double* data() const { return n_ > kInline ? heap_ : inline_; }
  std::size_t n_ = 0;
  double* heap_ = nullptr;
  double inline_[kInline] = {};
};

/// How an absent scalar dimension on the right-hand side is read (Volcano's DimensionDefaultValue).
enum class DimDefault { Zero, Infinity };

class Resource {
 public:
  static constexpr int kCpu = 0;
  static constexpr int kMemory = 1;

  Resource() = default;
  /// All zero, no scalar present.
  explicit Resource(int dims) : v_(static_cast<std::size_t>(dims), 0.0) {}

  int dims() const { return static_cast<int>(v_.size()); }
  /// The value of dimension d; an absent scalar reads 0.
  double get(int d) const { return v_[static_cast<std::size_t>(d)]; }
  /// cpu and memory are always present; a scalar only once set or added.
  bool has(int d) const { return d < 2 || ((mask_ >> d) & 1u) != 0; }
  bool has_scalars() const { return mask_ != 0; }
  /// Sets a dimension (marks a scalar present).
  void set(int d, double x);
  /// Removes a scalar dimension (value 0, absent).
  void erase(int d);

  /// Adds every dimension of r (scalars become present as in Volcano's Add).
  Resource& add(const Resource& r);
  /// Volcano's sub without the assertion: cpu and memory always; scalars only when this has any.
  Resource& sub(const Resource& r);
  /// Multiplies every present dimension.
  Resource& multi(double f);

  /// Volcano's LessEqual: every dimension of this <= rr within kMinResource; with Infinity, an
  /// rr scalar absent here fails and an absent rr scalar is skipped.
  bool less_equal(const Resource& rr, DimDefault def) const;
  /// Volcano's LessEqualWithResourcesName: the dimensions where this > rr (cpu, memory, then
  /// scalars by dimension index); empty means less-or-equal.
  std::vector<int> greater_dims(const Resource& rr, DimDefault def) const;
  /// Volcano's LessEqualWithDimensionAndResourcesName: compares only dimensions that `req` asks
  /// for (> 0), strictly (no tolerance); returns those where this > rr.
  std::vector<int> greater_dims_within(const Resource& rr, const Resource& req) const;
  /// Volcano's MinDimensionResource: per dimension min with rr; an rr scalar absent is taken as
  /// infinite (Infinity) or zero (Zero).
  Resource& min_dimension(const Resource& rr, DimDefault def);
  /// Volcano's Diff with the Zero default: (increased = this - rr where positive, decreased =
  /// rr - this where positive), over the union of dimensions.
  std::pair<Resource, Resource> diff(const Resource& rr) const;
  /// Volcano's IsEmpty: every dimension below kMinResource.
  bool is_empty() const;
  /// Volcano's ResourceNames: dimensions whose value is at least kMinResource.
  std::vector<int> resource_names() const;

  /// Exact equality of values and presence (Go's reflect.DeepEqual on two Resources).
  friend bool operator==(const Resource& a, const Resource& b) { return a.mask_ == b.mask_ && a.v_ == b.v_; }

 private:
  ResourceValues v_;
  uint64_t mask_ = 0;  ///< bit d set: scalar d present (bits 0 and 1 unused)
};

/// helpers.Min: cpu and memory min; scalars only when both sides have scalars, then every scalar
/// of l min'ed with r's (absent in r reads 0).
Resource resource_min(const Resource& l, const Resource& r);
/// helpers.Max: cpu and memory max; scalars from both sides, keeping only positive values.
Resource resource_max(const Resource& l, const Resource& r);
/// api.ExceededPart: per dimension max(0, l - r).
Resource exceeded_part(const Resource& l, const Resource& r);
/// helpers.Share: l / r, with 0/0 = 0 and x/0 = 1.
double share(double l, double r);

}  // namespace kai::scheduler
