#pragma once
// Volcano's util.PriorityQueue: a binary heap whose top is the element that `less` puts first.
// The order may read state that changes between pushes (shares, readiness); as in Volcano, an
// element's key only changes while it is out of the heap.

#include <algorithm>
#include <functional>
#include <vector>

namespace kai::scheduler {

class Heap {
 public:
  explicit Heap(std::function<bool(int, int)> less) : less_(std::move(less)) {}
  void push(int v) {
    v_.push_back(v);
    std::push_heap(v_.begin(), v_.end(), [this](int a, int b) { return less_(b, a); });
  }
  int pop() {
    std::pop_heap(v_.begin(), v_.end(), [this](int a, int b) { return less_(b, a); });
    const int v = v_.back();
    v_.pop_back();
    return v;
  }
  void reserve(std::size_t n) { v_.reserve(n); }
  bool empty() const { return v_.empty(); }
  std::size_t size() const { return v_.size(); }

 private:
  std::function<bool(int, int)> less_;
  std::vector<int> v_;
};

}  // namespace kai::scheduler
