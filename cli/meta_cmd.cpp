// kai version, kai completion, and the hidden generator of man pages.

#include <filesystem>
#include <fstream>

#include "cli/commands.h"
#include "cli/docs.h"
#include "lib/api/codec.h"
#include "lib/api/error.h"

#ifndef KAI_VERSION
#define KAI_VERSION "0.0.0"
#endif
#ifndef KAI_GIT_SHA
#define KAI_GIT_SHA "unknown"
#endif

namespace kai::cli {

void add_meta_commands(CLI::App& root, Context& ctx) {
  auto* version = root.add_subcommand("version", "Print the version information");
  version->callback([&ctx] {
    json v = {{"version", KAI_VERSION},
              {"gitSHA", KAI_GIT_SHA},
              {"apiVersions", {"batch.volcano.sh/v1alpha1", "scheduling.volcano.sh/v1beta1", "bus.volcano.sh/v1alpha1", "v1"}},
              {"compiler", std::string("g++ ") + __VERSION__},
              {"platform", "linux/amd64"}};
    auto spec = ctx.output_spec();
    if (spec.format == output::Format::Json) {
      ctx.out << api::to_json(v);
    } else if (spec.format == output::Format::Yaml) {
      ctx.out << api::to_yaml(v);
    } else {
      ctx.out << "Version: " << KAI_VERSION << "\nGit SHA: " << KAI_GIT_SHA
              << "\nAPI Versions: batch.volcano.sh/v1alpha1 scheduling.volcano.sh/v1beta1 bus.volcano.sh/v1alpha1 v1"
              << "\nCompiler: g++ " << __VERSION__ << "\nOS/Arch: linux/amd64\n";
    }
  });

  auto shell = std::make_shared<std::string>();
  auto* completion = root.add_subcommand("completion", "Print a shell completion script (bash, zsh or fish)");
  completion->add_option("shell", *shell, "bash, zsh or fish")->required()->check(CLI::IsMember({"bash", "zsh", "fish"}))->type_name("SHELL");
  completion->footer(
      "Load it:\n"
      "  bash: source <(kai completion bash)\n"
      "  zsh:  kai completion zsh > \"${fpath[1]}/_kai\"\n"
      "  fish: kai completion fish | source");
  completion->callback([&ctx, shell, &root] {
    auto tree = describe_tree(root);
    if (*shell == "bash") ctx.out << bash_completion(tree);
    if (*shell == "zsh") ctx.out << zsh_completion(tree);
    if (*shell == "fish") ctx.out << fish_completion(tree);
  });

  // Hidden (no group): writes the man pages; `make docs` and a test use it.
  auto dir = std::make_shared<std::string>();
  auto* gen = root.add_subcommand("__gen-man", "Write man pages for every command into DIR")->group("");
  gen->add_option("dir", *dir, "output directory")->required();
  gen->callback([&ctx, dir, &root] {
    namespace fs = std::filesystem;
    fs::create_directories(*dir);
    for (const auto& [name, text] : man_pages(describe_tree(root), KAI_VERSION)) {
      std::ofstream f(fs::path(*dir) / name, std::ios::binary | std::ios::trunc);
      f << text;
      if (!f) throw Error::unavailable("cannot write " + (fs::path(*dir) / name).string());
    }
  });
}

}  // namespace kai::cli
