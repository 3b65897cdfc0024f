#pragma once
// Completion scripts and man pages, generated from the CLI11 command tree so they never drift.

#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace kai::cli {

struct OptionDoc {
  std::vector<std::string> shorts;  ///< without '-'
  std::vector<std::string> longs;   ///< without '--'
  std::string description;
  std::string value_name;  ///< empty for flags
  std::string default_value;
};

struct CommandDoc {
  std::string name;
  std::vector<std::string> aliases;
  std::string description;
  std::string footer;
  std::vector<std::string> positionals;  ///< type names, e.g. NAME...
  std::vector<OptionDoc> options;
  std::vector<CommandDoc> children;
};

/// Snapshot of the command tree (hidden commands left out).
CommandDoc describe_tree(const CLI::App& app);

std::string bash_completion(const CommandDoc& root);
std::string zsh_completion(const CommandDoc& root);
std::string fish_completion(const CommandDoc& root);
/// File name -> roff text: kai.1 and kai-<command>.1 for each top-level command.
std::map<std::string, std::string> man_pages(const CommandDoc& root, const std::string& version);

}  // namespace kai::cli
