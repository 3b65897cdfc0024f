// kai_store_child: a writer the store tests run as separate processes.
//
//   kai_store_child increment HOME N   N read-modify-write increments of status.count of the
//                                      job default/counter, retrying on Conflict
//   kai_store_child create HOME NAME   creates pod default/NAME (opening a new store races)
//   kai_store_child create-loop HOME   prints "ready", then creates pods default/ack-xxxxx until
//                                      killed, printing each name once its create returned
//
// Exit code 0 on success, 1 with a message on stderr on any other error, 2 on bad usage.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "lib/api/error.h"
#include "minicluster/store.h"

namespace {

using kai::store::json;

// write(2) without stdio buffering: a line is in the pipe as soon as this returns.
void print_line(const std::string& line) {
  std::string out = line + "\n";
  std::string_view rest = out;
  while (!rest.empty()) {
    ssize_t n = ::write(STDOUT_FILENO, rest.data(), rest.size());
    if (n <= 0) std::exit(1);
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

int increment(const std::string& home, int n) {
  auto store = kai::store::Store::open(home);
  const auto& jobs = kai::api::jobs();
  for (int i = 0; i < n; ++i) {
    for (;;) {
      json job = store->get(jobs, "default", "counter");
      job["status"]["count"] = job["status"].value("count", 0) + 1;
      try {
        store->update(jobs, std::move(job));
        break;
      } catch (const kai::Error& e) {
        if (e.kind() != kai::ErrorKind::Conflict) throw;
        // Another process wrote first: read again.
      }
    }
  }
  return 0;
}

int create(const std::string& home, const std::string& name) {
  auto store = kai::store::Store::open(home);
  store->create(kai::api::pods(), {{"metadata", {{"name", name}, {"namespace", "default"}}}});
  return 0;
}

int create_loop(const std::string& home) {
  auto store = kai::store::Store::open(home);
  print_line("ready");
  const auto& pods = kai::api::pods();
  for (;;) {
    json pod = {{"metadata", {{"generateName", "ack-"}, {"namespace", "default"}, {"labels", {{"app", "ack"}}}}},
                {"spec", {{"containers", json::array({{{"name", "c"}, {"image", "busybox"}}})}}}};
    json stored = store->create(pods, std::move(pod));
    print_line(stored["metadata"]["name"].get<std::string>());
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string cmd = argc > 1 ? argv[1] : "";
  try {
    if (cmd == "increment" && argc == 4) return increment(argv[2], std::atoi(argv[3]));
    if (cmd == "create" && argc == 4) return create(argv[2], argv[3]);
    if (cmd == "create-loop" && argc == 3) return create_loop(argv[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kai_store_child %s: %s\n", cmd.c_str(), e.what());
    return 1;
  }
  std::fprintf(stderr, "usage: kai_store_child increment HOME N | create HOME NAME | create-loop HOME\n");
  return 2;
}
