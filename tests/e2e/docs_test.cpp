// The committed completion scripts and man pages are what the binary generates, they load in
// their shells, and --help covers every command.

#include <catch2/catch.hpp>

#include "support/run_kai.h"

using kai::test::KaiEnv;
using kai::test::read_file;

namespace {

bool have(const KaiEnv& env, const std::string& prog) { return env.sh("command -v " + prog + " >/dev/null").code == 0; }

}  // namespace

TEST_CASE("committed completion scripts are fresh (run 'make docs' when this fails)") {
  KaiEnv env;
  CHECK(env.kai({"completion", "bash"}).out == read_file(KAI_SOURCE_DIR "/completions/kai.bash"));
  CHECK(env.kai({"completion", "zsh"}).out == read_file(KAI_SOURCE_DIR "/completions/_kai"));
  CHECK(env.kai({"completion", "fish"}).out == read_file(KAI_SOURCE_DIR "/completions/kai.fish"));
}

TEST_CASE("committed man pages are fresh (run 'make docs' when this fails)") {
  KaiEnv env;
  auto dir = env.dir().path() / "man";
  REQUIRE(env.kai({"__gen-man", dir.string()}).code == 0);
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    ++n;
    INFO(e.path().filename());
    CHECK(read_file(e.path().string()) == read_file(std::string(KAI_SOURCE_DIR "/man/") + e.path().filename().string()));
  }
  std::size_t committed = 0;
  for (const auto& e : std::filesystem::directory_iterator(KAI_SOURCE_DIR "/man")) committed += e.path().extension() == ".1";
  CHECK(n == committed);
  CHECK(n >= 6);
  if (have(env, "groff")) {
    auto r = env.sh("for f in man/*.1; do groff -man -Tutf8 -ww -z \"$f\" || exit 1; done 2>&1");
    CHECK(r.code == 0);
    CHECK(r.out.empty());
  }
}

TEST_CASE("bash completion completes commands, subcommands, flags and resources") {
  KaiEnv env;
  if (!have(env, "bash")) {
    WARN("SKIPPED: bash is not installed");
    return;
  }
  auto complete = [&](const std::string& words, int cword) {
    return env.sh("bash -c 'source completions/kai.bash; COMP_WORDS=(" + words + "); COMP_CWORD=" + std::to_string(cword) +
                  "; _kai; echo \"${COMPREPLY[*]}\"'");
  };
  CHECK(complete("kai jo", 1).out == "job\n");
  CHECK(complete("kai job \"\"", 2).out == "submit run list view delete suspend resume logs wait explain\n");
  CHECK(complete("kai -n team queue cr", 4).out == "create\n");
  CHECK(complete("kai job list --all", 3).out == "--all-namespaces\n");
  CHECK(complete("kai get p", 2).out == "podgroups pg pods po\n");
  CHECK(complete("kai job list -o ya", 4).out == "yaml\n");
}

TEST_CASE("zsh and fish load their completion scripts") {
  KaiEnv env;
  if (have(env, "zsh")) {
    auto r = env.sh("zsh -f -c 'autoload -Uz compinit; compinit -u -d $HOME/.zcd; source completions/_kai; "
                    "whence -w _kai; _kai_path kai job'");
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(r.out == "_kai: function\nkai job\n");
  } else {
    WARN("SKIPPED: zsh is not installed");
  }
  if (have(env, "fish")) {
    auto r = env.sh("fish --no-config -c 'source completions/kai.fish; complete -C \"kai qu\"; complete -C \"kai queue op\"'");
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(r.out.find("queue\t") != std::string::npos);
    CHECK(r.out.find("operate\t") != std::string::npos);
  } else {
    WARN("SKIPPED: fish is not installed");
  }
}

TEST_CASE("--help covers every command and exits 0") {
  KaiEnv env;
  auto r = env.kai({"--help"});
  CHECK(r.code == 0);
  for (const char* c : {"job", "queue", "get", "apply", "delete", "describe", "cluster", "version", "completion"}) {
    CHECK(r.out.find(std::string("  ") + c) != std::string::npos);
  }
  CHECK(r.out.find("__gen-man") == std::string::npos);
  auto job = env.kai({"job"});
  CHECK(job.code == 0);
  CHECK(job.out.find("submit") != std::string::npos);
  auto q = env.kai({"queue", "create", "--help"});
  CHECK(q.code == 0);
  CHECK(q.out.find("here -n means name") != std::string::npos);
}

TEST_CASE("bash completion does not swallow the word after a flag that takes no value") {
  KaiEnv env;
  if (!have(env, "bash")) {
    WARN("SKIPPED: bash is not installed");
    return;
  }
  auto r = env.sh("bash -c 'source completions/kai.bash; COMP_WORDS=(kai --local job li); COMP_CWORD=3; _kai; echo \"${COMPREPLY[*]}\"'");
  CHECK(r.out == "list\n");
  auto v = env.sh("bash -c 'source completions/kai.bash; COMP_WORDS=(kai -n team job li); COMP_CWORD=4; _kai; echo \"${COMPREPLY[*]}\"'");
  CHECK(v.out == "list\n");
}
