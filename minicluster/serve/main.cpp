// kai-apiserver: the process behind `kai cluster serve` (see apiserver.h). kai starts it with
// the options below; it is not meant to be run by hand.

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <spdlog/spdlog.h>

#include "lib/api/error.h"
#include "minicluster/serve/apiserver.h"
#include "minicluster/serve/certs.h"

int main(int argc, char** argv) {
  kai::serve::ServeOptions o;
  bool init_only = false;  // make the certificates and token, then exit (kai cluster kubeconfig)
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "kai-apiserver: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--kai-home") {
      o.home = value();
    } else if (a == "--address") {
      o.address = value();
    } else if (a == "--port") {
      o.port = std::atoi(value().c_str());
    } else if (a == "--period") {
      o.period_seconds = std::atof(value().c_str());
    } else if (a == "--compaction-interval") {
      o.compaction_interval_seconds = std::atof(value().c_str());
    } else if (a == "--port-file") {
      o.port_file = value();
    } else if (a == "--threads") {
      o.threads = std::atoi(value().c_str());
    } else if (a == "--supervisor") {
      const std::string kai = value();
      o.supervisor_command = {kai, "__supervise", "--kai-home"};
    } else if (a == "--init-only") {
      init_only = true;
    } else if (a == "-v") {
      spdlog::set_level(spdlog::level::debug);
    } else {
      std::fprintf(stderr, "kai-apiserver: unknown argument %s (start it with kai cluster serve)\n", a.c_str());
      return 2;
    }
  }
  if (o.home.empty()) {
    std::fprintf(stderr, "kai-apiserver: --kai-home is required (start it with kai cluster serve)\n");
    return 2;
  }
  if (!o.supervisor_command.empty()) o.supervisor_command.push_back(o.home.string());
  try {
    if (init_only) {
      kai::serve::ensure_serve_files(o.home, o.address);
      return 0;
    }
    return kai::serve::run_apiserver(o);
  } catch (const kai::Error& e) {
    std::fprintf(stderr, "kai: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kai: error: internal: %s\n", e.what());
    return 1;
  }
}
