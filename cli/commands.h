#pragma once
// The command groups. Each add_* function registers its subcommands on the root app; the
// callbacks fill an options struct, validate it, then run against ctx.

#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/context.h"

namespace kai::cli {

/// Leaves a command's last big list of objects to the process's exit instead of freeing it
/// node by node (freeing 1,000 parsed jobs took a tenth of `kai job list`; compilers skip
/// freeing their syntax trees for the same reason). Under AddressSanitizer they are freed as
/// usual, so leak checking stays exact. Not for a command that lists in a loop.
inline void free_at_exit(std::vector<nlohmann::json>& objs) {
#if defined(__SANITIZE_ADDRESS__)
  objs.clear();
#else
  auto* kept = new std::vector<nlohmann::json>(std::move(objs));
  asm volatile("" : : "g"(kept) : "memory");  // or the compiler may drop the allocation
#endif
}

void add_job_commands(CLI::App& root, Context& ctx);
void add_queue_commands(CLI::App& root, Context& ctx);
void add_resource_commands(CLI::App& root, Context& ctx);
void add_cluster_commands(CLI::App& root, Context& ctx);
void add_sim_commands(CLI::App& root, Context& ctx);
void add_meta_commands(CLI::App& root, Context& ctx);
/// `kai job logs` and `kai job wait`, added to the `job` group.
void add_job_runtime_commands(CLI::App& job, Context& ctx);
/// `kai job explain`, added to the `job` group, and the `kai explain pod|podgroup` group
/// (cli/explain_cmd.cpp).
void add_job_explain_command(CLI::App& job, Context& ctx);
void add_explain_commands(CLI::App& root, Context& ctx);
/// Hidden commands kai runs itself (`__supervise`).
void add_internal_commands(CLI::App& root, Context& ctx);

/// Builds the whole command tree (used by main, completion and man generation).
void build_app(CLI::App& app, Context& ctx);

/// Runs kai with these arguments, writing to ctx's streams; returns the exit code.
int run(int argc, char** argv, Context& ctx);

// ---- shared helpers for commands (cli/common.cpp) ----

/// Decodes -f FILE|- into objects; errors name the file.
std::vector<json> read_manifest(const std::string& path);
/// Rewrites an admission/store error for an object that came from `file` (document `index`
/// of `count`): `job.yaml: spec.tasks[1].replicas: Invalid value: -1: ...`.
[[noreturn]] void rethrow_for_file(const std::string& file, std::size_t index, std::size_t count);
/// Prints objects per -o (table by default) or `No resources found ...` on stderr.
void print_list(Context& ctx, const api::ResourceInfo& res, const std::vector<json>& objs, bool single,
                const output::PrintOptions& opts, const std::string& ns_for_message);
/// Throws Invalid unless `ns` is a DNS-1123 label.
void validate_namespace(const std::string& ns);

}  // namespace kai::cli
