#include "cli/docs.h"

#include <algorithm>
#include <set>
#include <sstream>

namespace kai::cli {
namespace {

/// Resource type words completed after get/describe/delete.
const char* const kResourceWords = "jobs vcjob vj queues q podgroups pg pods po nodes no namespaces ns events ev commands";
const char* const kOutputWords = "wide json yaml name jsonpath= jsonpath-as-json= jsonpath-file= custom-columns= custom-columns-file=";

void collect(const CLI::App& app, CommandDoc& doc, bool is_root = true) {
  doc.name = app.get_name();
  doc.aliases = app.get_aliases();
  doc.description = app.get_description();
  doc.footer = app.get_footer();
  // CLI11 copies a parent's footer into its subcommands; document it once, where it was set.
  if (!is_root && app.get_parent() != nullptr && doc.footer == app.get_parent()->get_footer()) doc.footer.clear();
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->get_positional() && opt->get_lnames().empty() && opt->get_snames().empty()) {
      doc.positionals.push_back(opt->get_type_name().empty() ? opt->get_name() : opt->get_type_name());
      continue;
    }
    if (opt->get_group().empty()) continue;  // hidden
    if (!is_root && opt->get_group() == "Global Options") continue;  // documented once, on the root
    OptionDoc o;
    o.shorts = opt->get_snames();
    o.longs = opt->get_lnames();
    o.description = opt->get_description();
    if (opt->get_expected_max() != 0) {  // flags expect no value
      o.value_name = opt->get_type_name();
      if (o.value_name.empty() || o.value_name == "TEXT" ) o.value_name = "VALUE";
    }
    o.default_value = opt->get_default_str();
    doc.options.push_back(std::move(o));
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_group().empty()) continue;  // hidden commands
    CommandDoc child;
    collect(*sub, child, false);
    doc.children.push_back(std::move(child));
  }
}

struct Flat {
  std::string path;  ///< "kai job run"
  const CommandDoc* doc;
};

void flatten(const CommandDoc& doc, const std::string& prefix, std::vector<Flat>& out) {
  std::string path = prefix.empty() ? doc.name : prefix + " " + doc.name;
  out.push_back({path, &doc});
  for (const auto& c : doc.children) flatten(c, path, out);
}

std::string words_of_children(const CommandDoc& d) {
  std::string s;
  for (const auto& c : d.children) {
    s += (s.empty() ? "" : " ") + c.name;
  }
  return s;
}

std::string flag_words(const CommandDoc& d, const CommandDoc& root) {
  std::set<std::string> w;
  auto add = [&](const CommandDoc& x) {
    for (const auto& o : x.options) {
      for (const auto& s : o.shorts) w.insert("-" + s);
      for (const auto& l : o.longs) w.insert("--" + l);
    }
  };
  add(d);
  if (&d != &root) add(root);  // global flags fall through to every command
  std::string s;
  for (const auto& x : w) s += (s.empty() ? "" : " ") + x;
  return s;
}

std::string value_flags(const std::vector<Flat>& flat) {
  std::set<std::string> w;
  for (const auto& f : flat) {
    for (const auto& o : f.doc->options) {
      if (o.value_name.empty()) continue;
      for (const auto& s : o.shorts) w.insert("-" + s);
      for (const auto& l : o.longs) w.insert("--" + l);
    }
  }
  std::string s;
  for (const auto& x : w) s += (s.empty() ? "" : " ") + x;
  return s;
}

/// Every name a command answers to, for the path resolution in scripts.
std::vector<std::string> names_of(const CommandDoc& d) {
  std::vector<std::string> n{d.name};
  n.insert(n.end(), d.aliases.begin(), d.aliases.end());
  return n;
}

/// The `case "$1|$2"` arms that map (path, word) to the next command path, for bash and zsh;
/// `print` is the shell's command that writes the result ("echo", "print -r --").
std::string path_cases(const std::vector<Flat>& flat, const std::string& print) {
  std::ostringstream os;
  os << "  case \"$1|$2\" in\n";
  for (const auto& f : flat) {
    for (const auto& c : f.doc->children) {
      for (const auto& n : names_of(c)) {
        os << "    \"" << f.path << "|" << n << "\") " << print << " \"" << f.path << " " << c.name << "\" ;;\n";
      }
    }
  }
  os << "  esac\n";
  return os.str();
}

std::string roff_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else out += c;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out = "\\&" + out;
  return out;
}

std::string roff_text(const std::string& s) {
  // Each line of free text; keep line breaks of footers as .br.
  std::stringstream in(s), out;
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    if (!first) out << ".br\n";
    first = false;
    out << roff_escape(line) << "\n";
  }
  return out.str();
}

std::string option_synopsis(const OptionDoc& o) {
  std::string s;
  for (const auto& x : o.shorts) s += (s.empty() ? "" : ", ") + std::string("-") + x;
  for (const auto& x : o.longs) s += (s.empty() ? "" : ", ") + std::string("--") + x;
  if (!o.value_name.empty()) s += " " + o.value_name;
  return s;
}

void man_options(std::ostream& os, const std::vector<OptionDoc>& opts) {
  for (const auto& o : opts) {
    os << ".TP\n.B " << roff_escape(option_synopsis(o)) << "\n" << roff_escape(o.description);
    if (!o.default_value.empty()) os << " (default: " << roff_escape(o.default_value) << ")";
    os << "\n";
  }
}

void man_command(std::ostream& os, const CommandDoc& d, const std::string& path) {
  os << ".SS " << roff_escape(path) << "\n";
  os << roff_escape(d.description) << "\n.PP\n";
  os << ".B " << roff_escape(path) << "\n";
  if (!d.children.empty()) os << roff_escape("COMMAND") << "\n";
  for (const auto& p : d.positionals) os << ".I " << roff_escape(p) << "\n";
  if (!d.options.empty()) os << "[OPTIONS]\n";
  if (!d.aliases.empty()) {
    std::string a;
    for (const auto& x : d.aliases) a += (a.empty() ? "" : ", ") + x;
    os << ".PP\nAliases: " << roff_escape(a) << "\n";
  }
  if (!d.options.empty()) {
    os << ".PP\n";
    man_options(os, d.options);
  }
  if (!d.footer.empty()) os << ".PP\n" << roff_text(d.footer);
  for (const auto& c : d.children) man_command(os, c, path + " " + c.name);
}

}  // namespace

CommandDoc describe_tree(const CLI::App& app) {
  CommandDoc doc;
  collect(app, doc);
  return doc;
}

std::string bash_completion(const CommandDoc& root) {
  std::vector<Flat> flat;
  flatten(root, "", flat);
  std::ostringstream os;
  os << "# bash completion for kai -*- shell-script -*-\n"
        "# Generated by `kai completion bash` from the command tree; do not edit.\n"
        "_kai_value_flags=\" "
     << value_flags(flat)
     << " \"\n"
        "_kai_path() {\n"
        "  # $1: the command path so far, $2: a word; prints the new path or nothing\n"
     << path_cases(flat, "echo")
     << "}\n"
        "_kai() {\n"
        "  local cur prev path i w next skip=0\n"
        "  cur=\"${COMP_WORDS[COMP_CWORD]}\"\n"
        "  prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
        "  path=kai\n"
        "  for ((i=1; i<COMP_CWORD; i++)); do\n"
        "    w=\"${COMP_WORDS[i]}\"\n"
        "    if ((skip)); then skip=0; continue; fi\n"
        "    if [[ \"$w\" == \"--\" ]]; then COMPREPLY=(); return; fi\n"
        "    if [[ \"$w\" == -* ]]; then\n"
        "      [[ \"$w\" != *=* && \"$_kai_value_flags\" == *\" $w \"* ]] && skip=1\n"
        "      continue\n"
        "    fi\n"
        "    next=$(_kai_path \"$path\" \"$w\")\n"
        "    [[ -n \"$next\" ]] && path=\"$next\"\n"
        "  done\n"
        "  case \"$prev\" in\n"
        "    -o|--output) COMPREPLY=($(compgen -W \""
     << kOutputWords
     << "\" -- \"$cur\")); return ;;\n"
        "    -f|--filename|--kubeconfig|--kai-home) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
        "  esac\n"
        "  local subs flags\n"
        "  case \"$path\" in\n";
  for (const auto& f : flat) {
    os << "    \"" << f.path << "\") subs=\"" << words_of_children(*f.doc) << "\"; flags=\"" << flag_words(*f.doc, root)
       << "\" ;;\n";
  }
  os << "  esac\n"
        "  case \"$path\" in\n"
        "    \"kai get\"|\"kai describe\"|\"kai delete\") [[ \"$prev\" == get || \"$prev\" == describe || \"$prev\" == delete ]] && subs=\""
     << kResourceWords
     << "\" ;;\n"
        "  esac\n"
        "  if [[ \"$cur\" == -* ]]; then\n"
        "    COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n"
        "  else\n"
        "    COMPREPLY=($(compgen -W \"$subs\" -- \"$cur\"))\n"
        "  fi\n"
        "}\n"
        "complete -o default -F _kai kai\n";
  return os.str();
}

std::string zsh_completion(const CommandDoc& root) {
  std::vector<Flat> flat;
  flatten(root, "", flat);
  std::ostringstream os;
  os << "#compdef kai\n"
        "# zsh completion for kai. Generated by `kai completion zsh` from the command tree; do not edit.\n"
        "_kai_path() {\n"
     << path_cases(flat, "print -r --")
     << "}\n"
        "_kai() {\n"
        "  local value_flags=\" "
     << value_flags(flat)
     << " \"\n"
        "  local path=kai i w next skip=0 cur=\"${words[CURRENT]}\" prev=\"${words[CURRENT-1]}\"\n"
        "  for ((i=2; i<CURRENT; i++)); do\n"
        "    w=\"${words[i]}\"\n"
        "    if ((skip)); then skip=0; continue; fi\n"
        "    [[ \"$w\" == \"--\" ]] && return 1\n"
        "    if [[ \"$w\" == -* ]]; then\n"
        "      [[ \"$w\" != *=* && \"$value_flags\" == *\" $w \"* ]] && skip=1\n"
        "      continue\n"
        "    fi\n"
        "    next=$(_kai_path \"$path\" \"$w\")\n"
        "    [[ -n \"$next\" ]] && path=\"$next\"\n"
        "  done\n"
        "  case \"$prev\" in\n"
        "    -o|--output) compadd -- "
     << kOutputWords
     << "; return ;;\n"
        "    -f|--filename|--kubeconfig|--kai-home) _files; return ;;\n"
        "  esac\n"
        "  local -a subs flags\n"
        "  case \"$path\" in\n";
  for (const auto& f : flat) {
    os << "    \"" << f.path << "\") subs=(" << words_of_children(*f.doc) << "); flags=(" << flag_words(*f.doc, root)
       << ") ;;\n";
  }
  os << "  esac\n"
        "  if [[ \"$path\" == \"kai get\" || \"$path\" == \"kai describe\" || \"$path\" == \"kai delete\" ]] && [[ \"$prev\" == get || \"$prev\" == describe || \"$prev\" == delete ]]; then\n"
        "    subs=("
     << kResourceWords
     << ")\n"
        "  fi\n"
        "  if [[ \"$cur\" == -* ]]; then\n"
        "    compadd -- \"${flags[@]}\"\n"
        "  else\n"
        "    compadd -- \"${subs[@]}\"\n"
        "  fi\n"
        "}\n"
        "if [[ \"$funcstack[1]\" == \"_kai\" ]]; then _kai \"$@\"; else compdef _kai kai; fi\n";
  return os.str();
}

std::string fish_completion(const CommandDoc& root) {
  std::vector<Flat> flat;
  flatten(root, "", flat);
  auto quote = [](const std::string& s) {
    std::string o = "'";
    for (char c : s) {
      if (c == '\'' || c == '\\') o += '\\';
      o += c;
    }
    return o + "'";
  };
  std::ostringstream os;
  os << "# fish completion for kai. Generated by `kai completion fish` from the command tree; do not edit.\n"
        "function __kai_path\n"
        "    set -l path kai\n"
        "    set -l skip 0\n"
        "    set -l value_flags "
     << value_flags(flat)
     << "\n"
        "    for w in (commandline -opc)[2..-1]\n"
        "        if test $skip -eq 1\n"
        "            set skip 0\n"
        "            continue\n"
        "        end\n"
        "        if string match -q -- '-*' $w\n"
        "            if not string match -q -- '*=*' $w; and contains -- $w $value_flags\n"
        "                set skip 1\n"
        "            end\n"
        "            continue\n"
        "        end\n"
        "        switch \"$path|$w\"\n";
  for (const auto& f : flat) {
    for (const auto& c : f.doc->children) {
      std::string cases;
      for (const auto& n : names_of(c)) cases += " " + quote(f.path + "|" + n);
      os << "            case" << cases << "\n                set path " << quote(f.path + " " + c.name) << "\n";
    }
  }
  os << "        end\n"
        "    end\n"
        "    echo $path\n"
        "end\n"
        "complete -c kai -f\n";
  for (const auto& f : flat) {
    const std::string when = "-n \"test (__kai_path) = '" + f.path + "'\"";
    for (const auto& c : f.doc->children) {
      os << "complete -c kai " << when << " -a " << quote(c.name) << " -d " << quote(c.description) << "\n";
    }
    for (const auto& o : f.doc->options) {
      os << "complete -c kai " << (f.doc == &root ? std::string() : when + " ");
      for (const auto& s : o.shorts) os << "-s " << s << " ";
      for (const auto& l : o.longs) os << "-l " << l << " ";
      if (!o.value_name.empty()) os << "-r ";
      os << "-d " << quote(o.description) << "\n";
    }
  }
  os << "complete -c kai -n \"contains (__kai_path) 'kai get' 'kai describe' 'kai delete'\" -a " << quote(kResourceWords) << "\n";
  os << "complete -c kai -l output -s o -r -a " << quote(kOutputWords) << "\n";
  return os.str();
}

std::map<std::string, std::string> man_pages(const CommandDoc& root, const std::string& version) {
  std::map<std::string, std::string> pages;
  const std::string header_tail = " \"kai " + version + "\" \"kai manual\"\n";
  {
    std::ostringstream os;
    os << ".TH KAI 1" << header_tail << ".SH NAME\nkai \\- " << roff_escape(root.description) << "\n"
       << ".SH SYNOPSIS\n.B kai\n.I COMMAND\n[OPTIONS]\n"
       << ".SH DESCRIPTION\n"
          "kai submits, inspects and deletes gang\\-scheduled Volcano jobs and queues, against a Kubernetes\n"
          "cluster from a kubeconfig or against an embedded local mini\\-cluster stored under\n"
          ".IR KAI_HOME .\n"
          "With no kubeconfig at all, or with\n.BR \\-\\-local ,\nkai uses the local cluster.\n"
       << ".SH COMMANDS\n";
    for (const auto& c : root.children) {
      os << ".TP\n.B kai " << roff_escape(c.name) << "\n" << roff_escape(c.description) << " (see\n.BR kai\\-"
         << roff_escape(c.name) << " (1))\n";
    }
    os << ".SH GLOBAL OPTIONS\nThese apply to every command.\n";
    man_options(os, root.options);
    os << ".SH EXIT STATUS\n0 on success, 1 on an error (the message names the file and field), 2 on a usage error.\n"
       << ".SH ENVIRONMENT\n"
          ".TP\n.B KAI_HOME\nWhere the local cluster lives (default $XDG_STATE_HOME/kai, else ~/.local/state/kai).\n"
          ".TP\n.B KUBECONFIG\nColon\\-separated kubeconfig files, as kubectl reads them.\n"
          ".TP\n.B KAI_CLUSTER\nSet to\n.B local\nto use the embedded cluster even when a kubeconfig exists.\n"
       << ".SH FILES\n.TP\n.I $KAI_HOME/store.db\nThe local store (SQLite, WAL mode, mode 0600).\n"
          ".TP\n.I $KAI_HOME/pods/<ns>/<pod>.<uid>/\nA local pod's container logs, and under\n.I root/\n"
          "the files the job plugins give it (svc's\n.IR etc/volcano/ ,\nssh's\n.IR root/.ssh/ ),\n"
          "which its processes find through\n.BR KAI_POD_ROOT .\n"
          ".TP\n.I $KAI_HOME/jobs/<ns>/<job>.<uid>/ssh/id_rsa\nThe private key the ssh job plugin made for the job "
          "(mode 0600), shared by all its pods.\n"
       << ".SH EXAMPLES\n.nf\nkai job submit \\-f examples/hello\\-job.yaml\nkai job list\nkai job view hello\n"
          "kai queue create research \\-w 2\nkai get pods \\-A \\-o wide\n.fi\n"
       << ".SH SEE ALSO\n";
    std::string sep;
    for (const auto& c : root.children) {
      os << sep << ".BR kai\\-" << roff_escape(c.name) << " (1)";
      sep = ",\n";
    }
    os << "\n";
    pages["kai.1"] = os.str();
  }
  for (const auto& c : root.children) {
    std::ostringstream os;
    std::string upper = "KAI-" + c.name;
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char ch) { return std::toupper(ch); });
    os << ".TH " << roff_escape(upper) << " 1" << header_tail << ".SH NAME\nkai\\-" << roff_escape(c.name) << " \\- "
       << roff_escape(c.description) << "\n.SH COMMANDS\n";
    man_command(os, c, "kai " + c.name);
    os << ".SH GLOBAL OPTIONS\n";
    man_options(os, root.options);
    os << ".SH SEE ALSO\n.BR kai (1)\n";
    pages["kai-" + c.name + ".1"] = os.str();
  }
  return pages;
}

}  // namespace kai::cli
