// The root of the command tree, global flags, and the one place errors become exit codes.

#include <algorithm>
#include <iostream>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "lib/api/error.h"
#include "lib/api/text_util.h"

namespace kai::cli {
namespace {

using api::text_detail::edit_distance;

/// The deepest command the parser entered.
CLI::App* deepest(CLI::App* app) {
  while (true) {
    auto subs = app->get_subcommands();
    if (subs.empty()) return app;
    app = subs.front();
  }
}

std::string command_path(const CLI::App* app) {
  std::string path;
  for (const CLI::App* a = app; a != nullptr; a = a->get_parent()) {
    path = a->get_name() + (path.empty() ? "" : " " + path);
  }
  return path;
}

/// `unknown command "lst" for "kai job"` plus cobra's "Did you mean this?" block.
std::string unknown_command_message(CLI::App* app, const std::string& word) {
  std::string msg = "unknown command \"" + word + "\" for \"" + command_path(app) + "\"";
  std::vector<std::string> close;
  for (const CLI::App* sub : app->get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_group().empty()) continue;
    if (edit_distance(word, sub->get_name()) <= 2 || sub->get_name().rfind(word, 0) == 0) close.push_back(sub->get_name());
  }
  if (!close.empty()) {
    msg += "\n\nDid you mean this?";
    for (const auto& c : close) msg += "\n\t" + c;
  }
  return msg;
}

void setup_logging(int verbosity) {
  auto logger = spdlog::stderr_logger_st("kai");
  logger->set_pattern("kai: %l: %v");
  logger->set_level(verbosity <= 0   ? spdlog::level::warn
                    : verbosity == 1 ? spdlog::level::info
                    : verbosity == 2 ? spdlog::level::debug
                                     : spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

/// Group commands without a subcommand print their help, as cobra does.
void help_when_bare(CLI::App& app, Context& ctx) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_subcommands([](CLI::App*) { return true; }).empty()) continue;
    sub->callback([sub, &ctx] {
      if (sub->get_subcommands().empty()) ctx.out << sub->help();
    });
    help_when_bare(*sub, ctx);
  }
}

/// Adds the global flags to `app` (bound to the same GlobalOptions), skipping any name the
/// command already uses itself (queue commands take -n as the queue name, as vcctl does).
/// Every command gets them, instead of CLI11's fallthrough, which would also let a word such as
/// `job` in `kai get job x` switch to the `job` command.
void add_global_options(CLI::App& app, GlobalOptions& g) {
  auto taken = [&app](const std::string& name) { return app.get_option_no_throw(name) != nullptr; };
  auto names = [&](std::initializer_list<const char*> all) {
    std::string out;
    for (const char* n : all) {
      if (taken(n)) continue;
      out += (out.empty() ? "" : ",") + std::string(n);
    }
    return out;
  };
  const std::string group = "Global Options";
  if (auto n = names({"--kubeconfig"}); !n.empty()) {
    app.add_option(n, g.kubeconfig, "path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)")->type_name("FILE")->group(group);
  }
  if (auto n = names({"--context"}); !n.empty()) {
    app.add_option(n, g.context, "the kubeconfig context to use")->type_name("NAME")->group(group);
  }
  if (auto n = names({"-s", "--server"}); !n.empty()) {
    app.add_option(n, g.server, "the API server's address, replacing the kubeconfig context's")->type_name("URL")->group(group);
  }
  if (auto n = names({"-n", "--namespace"}); !n.empty()) {
    app.add_option(n, g.ns, "the namespace (default: the context's, else default)")->type_name("NS")->group(group);
  }
  if (auto n = names({"--local"}); !n.empty()) {
    app.add_flag(n, g.local, "use the embedded local cluster even if a kubeconfig exists")->group(group);
  }
  if (auto n = names({"-o", "--output"}); !n.empty()) {
    app.add_option(n, g.output, "output format: wide|json|yaml|name|jsonpath=T|jsonpath-as-json=T|custom-columns=SPEC")
        ->type_name("FORMAT")->group(group);
  }
  if (auto n = names({"-v", "--verbosity"}); !n.empty()) {
    app.add_option(n, g.verbosity, "log verbosity on stderr: 0 warnings, 1 info, 2 debug, 3 trace")->type_name("N")->group(group);
  }
  if (auto n = names({"--kai-home"}); !n.empty()) {
    app.add_option(n, g.kai_home, "directory of the local cluster (default: $KAI_HOME, else $XDG_STATE_HOME/kai)")
        ->type_name("DIR")->group(group);
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) add_global_options(*sub, g);
}

}  // namespace

void build_app(CLI::App& app, Context& ctx) {
  app.description("kai: gang-scheduled AI batch jobs on Kubernetes (Volcano) or on an embedded local cluster");
  app.set_version_flag("--version", std::string(KAI_VERSION));
  // At most one subcommand per level: CLI11 then stops matching later words (`kai get job x`,
  // `kai job view list`) against command names.
  app.require_subcommand(0, 1);
  app.footer("Exit status: 0 ok, 1 error, 2 usage error.\nRun 'kai COMMAND --help' for a command's flags.");

  add_job_commands(app, ctx);
  add_queue_commands(app, ctx);
  add_resource_commands(app, ctx);
  add_cluster_commands(app, ctx);
  add_sim_commands(app, ctx);
  add_explain_commands(app, ctx);
  add_meta_commands(app, ctx);
  add_internal_commands(app, ctx);
  help_when_bare(app, ctx);
  add_global_options(app, ctx.global);
}

int run(int argc, char** argv, Context& ctx) {
  // Words after a literal `--` are the container command of `kai job run`; CLI11 never sees them.
  std::vector<char*> args(argv, argv + argc);
  auto dashdash = std::find_if(args.begin() + 1, args.end(), [](const char* a) { return std::string(a) == "--"; });
  if (dashdash != args.end()) {
    for (auto it = dashdash + 1; it != args.end(); ++it) ctx.trailing.emplace_back(*it);
    args.erase(dashdash, args.end());
  }

  CLI::App app{"", "kai"};
  build_app(app, ctx);
  app.parse_complete_callback([&app, &ctx] {
    setup_logging(ctx.global.verbosity);
    if (!ctx.trailing.empty() && command_path(deepest(&app)) != "kai job run") {
      throw Error::usage("unexpected arguments after --: only 'kai job run' takes a command there");
    }
  });
  try {
    try {
      app.parse(static_cast<int>(args.size()), args.data());
      ctx.finish();
    } catch (const CLI::CallForHelp&) {
      ctx.out << deepest(&app)->help();
      return 0;
    } catch (const CLI::CallForVersion&) {
      ctx.out << "kai " << KAI_VERSION << "\n";
      return 0;
    } catch (const CLI::ExtrasError& e) {
      CLI::App* at = deepest(&app);
      auto extras = at->remaining();
      if (!extras.empty() && !at->get_subcommands([](const CLI::App*) { return true; }).empty()) {
        throw Error::usage(unknown_command_message(at, extras.front()));
      }
      throw Error::usage(e.what());
    } catch (const CLI::RuntimeError& e) {
      ctx.finish();  // a partly failed command (some names not found) still changed the cluster
      return e.get_exit_code();
    } catch (const CLI::ParseError& e) {
      throw Error::usage(e.what());
    }
  } catch (const Error& e) {
    const int code = e.kind() == ErrorKind::Usage ? 2 : 1;
    ctx.err << "kai: error: " << e.what() << "\n";
    if (code == 2) ctx.err << "Run '" << command_path(deepest(&app)) << " --help' for usage.\n";
    return code;
  } catch (const std::exception& e) {
    ctx.err << "kai: error: internal: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace kai::cli
