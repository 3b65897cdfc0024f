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

/// Tasks taken in an order that never changes while they wait (task order reads only what a
/// session does not change: priorities, names, creation, uids), so they pop in the order a
/// Heap of the same tasks would. Held by value, heapified in one go (most jobs that wait give
/// up after their first task: sorting them all would cost more).
class SortedTasks {
 public:
  SortedTasks() = default;
  SortedTasks(std::vector<int> tasks, std::function<bool(int, int)> less) : v_(std::move(tasks)), less_(std::move(less)) {
    std::make_heap(v_.begin(), v_.end(), greater());
  }
  int pop() {
    std::pop_heap(v_.begin(), v_.end(), greater());
    const int t = v_.back();
    v_.pop_back();
    return t;
  }
  bool empty() const { return v_.empty(); }

 private:
  struct Greater {
    const std::function<bool(int, int)>* less;
    bool operator()(int a, int b) const { return (*less)(b, a); }
  };
  Greater greater() const { return Greater{&less_}; }
  std::vector<int> v_;
  std::function<bool(int, int)> less_;
};

}  // namespace kai::scheduler
