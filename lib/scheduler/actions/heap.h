#pragma once
// Volcano's util.PriorityQueue: a binary heap whose top is the element that `less` puts first.
// The order may read state that changes between pushes (shares, readiness); as in Volcano, an
// element's key only changes while it is out of the heap.

#include <algorithm>
#include <functional>
#include <span>
#include <vector>

namespace kai::scheduler {

/// `less` reversed, for the std heap functions (whose top is the greatest): pops the first.
struct ReversedLess {
  const std::function<bool(int, int)>* less;
  bool operator()(int a, int b) const { return (*less)(b, a); }
};

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
  int top() const { return v_.front(); }

 private:
  std::function<bool(int, int)> less_;
  std::vector<int> v_;
};

/// A Heap for elements whose key changes only while they are out of it and whose order is
/// total (ties broken by uid, as job and task order are): what is pushed before the first pop is
/// sorted once, what comes back later goes to a small heap, and pop takes the first of the two.
/// Allocate gives every waiting job a turn and most come back once, right away: sorting them
/// once costs about half the comparisons that a heap's pops cost.
class SortedThenHeap {
 public:
  explicit SortedThenHeap(std::function<bool(int, int)> less) : less_(less), returned_(std::move(less)) {}
  void push(int v) {
    if (sorted_) {
      returned_.push(v);
    } else {
      initial_.push_back(v);
    }
  }
  int pop() {
    if (!sorted_) {
      // The first last: pop_back takes it.
      std::sort(initial_.begin(), initial_.end(), [this](int a, int b) { return less_(b, a); });
      sorted_ = true;
    }
    if (returned_.empty() || (!initial_.empty() && less_(initial_.back(), returned_.top()))) {
      const int v = initial_.back();
      initial_.pop_back();
      return v;
    }
    return returned_.pop();
  }
  bool empty() const { return initial_.empty() && returned_.empty(); }

 private:
  std::function<bool(int, int)> less_;
  std::vector<int> initial_;
  bool sorted_ = false;
  Heap returned_;
};

/// Tasks taken in an order that never changes while they wait (task order reads only what a
/// session does not change: priorities, names, creation, uids), so they pop in the order a
/// Heap of the same tasks would. Held by value, heapified in one go (most jobs that wait give
/// up after their first task: sorting them all would cost more).
class TaskHeap {
 public:
  TaskHeap() = default;
  TaskHeap(std::vector<int> tasks, std::function<bool(int, int)> less) : v_(std::move(tasks)), less_(std::move(less)) {
    std::make_heap(v_.begin(), v_.end(), ReversedLess{&less_});
  }
  int pop() {
    std::pop_heap(v_.begin(), v_.end(), ReversedLess{&less_});
    const int t = v_.back();
    v_.pop_back();
    return t;
  }
  bool empty() const { return v_.empty(); }

 private:
  std::vector<int> v_;
  std::function<bool(int, int)> less_;
};

/// TaskHeap for many jobs in one buffer: each job's tasks are added once, on its first turn,
/// and heapified in place (an action gives every waiting job a turn; a heap each cost an
/// allocation per job and session).
class TaskQueues {
 public:
  TaskQueues(std::size_t jobs, std::function<bool(int, int)> less) : range_(jobs), less_(std::move(less)) {}
  bool filled(int j) const { return range_[static_cast<std::size_t>(j)].filled; }
  /// Job j's tasks that `keep` keeps; a job is filled once.
  template <class Keep>
  void fill(int j, std::span<const int> tasks, Keep keep) {
    Range& r = range_[static_cast<std::size_t>(j)];
    r.filled = true;
    r.begin = buf_.size();
    for (int t : tasks) {
      if (keep(t)) buf_.push_back(t);
    }
    r.end = buf_.size();
    std::make_heap(at(r.begin), at(r.end), ReversedLess{&less_});
  }
  bool empty(int j) const {
    const Range& r = range_[static_cast<std::size_t>(j)];
    return r.end == r.begin;
  }
  int pop(int j) {
    Range& r = range_[static_cast<std::size_t>(j)];
    std::pop_heap(at(r.begin), at(r.end), ReversedLess{&less_});
    return buf_[--r.end];
  }

 private:
  struct Range {
    std::size_t begin = 0, end = 0;
    bool filled = false;
  };
  std::vector<int>::iterator at(std::size_t i) { return buf_.begin() + static_cast<std::ptrdiff_t>(i); }
  std::vector<int> buf_;
  std::vector<Range> range_;
  std::function<bool(int, int)> less_;
};

}  // namespace kai::scheduler
