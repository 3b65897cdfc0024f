#include "lib/scheduler/resource.h"

#include <algorithm>
#include <cmath>

namespace kai::scheduler {
namespace {

bool le_tol(double l, double r) { return l < r || std::abs(l - r) < kMinResource; }

}  // namespace

void Resource::set(int d, double x) {
  v_[static_cast<std::size_t>(d)] = x;
  if (d >= 2) mask_ |= uint64_t{1} << d;
}

void Resource::erase(int d) {
  v_[static_cast<std::size_t>(d)] = 0;
  if (d >= 2) mask_ &= ~(uint64_t{1} << d);
}

Resource& Resource::add(const Resource& r) {
  v_[kCpu] += r.v_[kCpu];
  v_[kMemory] += r.v_[kMemory];
  for (int d = 2; d < dims(); ++d) {
    if (r.has(d)) set(d, get(d) + r.get(d));
  }
  return *this;
}

Resource& Resource::sub(const Resource& r) {
  v_[kCpu] -= r.v_[kCpu];
  v_[kMemory] -= r.v_[kMemory];
  if (!has_scalars()) return *this;
  for (int d = 2; d < dims(); ++d) {
    if (r.has(d)) set(d, get(d) - r.get(d));
  }
  return *this;
}

Resource& Resource::multi(double f) {
  for (int d = 0; d < dims(); ++d) {
    if (has(d)) v_[static_cast<std::size_t>(d)] *= f;
  }
  return *this;
}

bool Resource::less_equal(const Resource& rr, DimDefault def) const {
  if (!le_tol(get(kCpu), rr.get(kCpu)) || !le_tol(get(kMemory), rr.get(kMemory))) return false;
  for (int d = 2; d < dims(); ++d) {
    // With Infinity, a dimension only the right side has is infinite on the left.
    if (def == DimDefault::Infinity && rr.has(d) && !has(d)) return false;
    if (!has(d)) continue;
    if (!rr.has(d) && def == DimDefault::Infinity) continue;
    if (!le_tol(get(d), rr.get(d))) return false;
  }
  return true;
}

std::vector<int> Resource::greater_dims(const Resource& rr, DimDefault def) const {
  std::vector<int> out;
  if (!le_tol(get(kCpu), rr.get(kCpu))) out.push_back(kCpu);
  if (!le_tol(get(kMemory), rr.get(kMemory))) out.push_back(kMemory);
  for (int d = 2; d < dims(); ++d) {
    if (!has(d)) continue;
    if (!rr.has(d) && def == DimDefault::Infinity) continue;
    if (!le_tol(get(d), rr.get(d))) out.push_back(d);
  }
  return out;
}

std::vector<int> Resource::greater_dims_within(const Resource& rr, const Resource& req) const {
  std::vector<int> out;
  if (req.get(kCpu) > 0 && get(kCpu) > rr.get(kCpu)) out.push_back(kCpu);
  if (req.get(kMemory) > 0 && get(kMemory) > rr.get(kMemory)) out.push_back(kMemory);
  // Volcano: a left side without any scalar is within rr on every scalar.
  if (!has_scalars()) return out;
  for (int d = 2; d < dims(); ++d) {
    if (req.has(d) && req.get(d) > 0 && get(d) > rr.get(d)) out.push_back(d);
  }
  return out;
}

Resource& Resource::min_dimension(const Resource& rr, DimDefault def) {
  v_[kCpu] = std::min(v_[kCpu], rr.v_[kCpu]);
  v_[kMemory] = std::min(v_[kMemory], rr.v_[kMemory]);
  if (!has_scalars()) return *this;
  for (int d = 2; d < dims(); ++d) {
    if (!has(d)) continue;
    if (rr.has(d)) {
      set(d, std::min(get(d), rr.get(d)));
    } else if (def == DimDefault::Zero) {
      set(d, 0);
    }
  }
  return *this;
}

std::pair<Resource, Resource> Resource::diff(const Resource& rr) const {
  Resource inc(dims()), dec(dims());
  for (int d = 0; d < dims(); ++d) {
    if (d >= 2 && !has(d) && !rr.has(d)) continue;
    const double l = get(d), r = rr.get(d);
    if (l > r) {
      inc.set(d, l - r);
    } else {
      dec.set(d, r - l);
    }
  }
  return {inc, dec};
}

bool Resource::is_empty() const {
  for (int d = 0; d < dims(); ++d) {
    if (has(d) && get(d) >= kMinResource) return false;
  }
  return true;
}

std::vector<int> Resource::resource_names() const {
  std::vector<int> out;
  for (int d = 0; d < dims(); ++d) {
    if (has(d) && get(d) >= kMinResource) out.push_back(d);
  }
  return out;
}

Resource resource_min(const Resource& l, const Resource& r) {
  Resource out(l.dims());
  out.set(Resource::kCpu, std::min(l.get(Resource::kCpu), r.get(Resource::kCpu)));
  out.set(Resource::kMemory, std::min(l.get(Resource::kMemory), r.get(Resource::kMemory)));
  if (!l.has_scalars() || !r.has_scalars()) return out;
  for (int d = 2; d < l.dims(); ++d) {
    if (l.has(d)) out.set(d, std::min(l.get(d), r.get(d)));
  }
  return out;
}

Resource resource_max(const Resource& l, const Resource& r) {
  Resource out(l.dims());
  out.set(Resource::kCpu, std::max(l.get(Resource::kCpu), r.get(Resource::kCpu)));
  out.set(Resource::kMemory, std::max(l.get(Resource::kMemory), r.get(Resource::kMemory)));
  for (int d = 2; d < l.dims(); ++d) {
    double v = 0;
    bool any = false;
    if (l.has(d) && l.get(d) > 0) v = l.get(d), any = true;
    if (r.has(d) && r.get(d) > 0) v = std::max(v, r.get(d)), any = true;
    if (any) out.set(d, v);
  }
  return out;
}

Resource exceeded_part(const Resource& l, const Resource& r) {
  // diff(r).first without building the other half (session open calls this once per job).
  Resource inc(l.dims());
  for (int d = 0; d < l.dims(); ++d) {
    if (d >= 2 && !l.has(d) && !r.has(d)) continue;
    const double a = l.get(d), b = r.get(d);
    if (a > b) inc.set(d, a - b);
  }
  return inc;
}

double share(double l, double r) {
  if (r == 0) return l == 0 ? 0 : 1;
  return l / r;
}

}  // namespace kai::scheduler
