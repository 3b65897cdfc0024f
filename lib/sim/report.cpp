// A simulation's report as JSON, its timeline as CSV and as an SVG plot.

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "lib/sim/simulator.h"

namespace kai::sim {
namespace {

/// Rounds for output, so that JSON shows 0.1455 rather than 0.14550000000000002: dividing by an
/// exact power of ten gives the double nearest the decimal.
double round_to(double x, double unit) {
  const double scale = std::round(1 / unit);
  return std::round(x * scale) / scale;
}

json wait_json(const WaitStats& w) {
  return {{"p50", round_to(w.p50, 1e-3)}, {"p90", round_to(w.p90, 1e-3)}, {"p99", round_to(w.p99, 1e-3)},
          {"mean", round_to(w.mean, 1e-3)}, {"max", round_to(w.max, 1e-3)}};
}

/// A number for CSV and SVG: integers without a fraction, others with at most 3 decimals.
std::string num(double x) {
  char buf[64];
  if (std::abs(x - std::round(x)) < 1e-9) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(std::llround(x)));
  } else {
    std::snprintf(buf, sizeof buf, "%.3f", x);
    std::string s = buf;
    while (s.back() == '0') s.pop_back();
    return s;
  }
  return buf;
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string csv_header(const Report& r, bool with_config) {
  std::string h = with_config ? "config,time,gpu_used,gpu_total" : "time,gpu_used,gpu_total";
  for (const auto& q : r.queues) h += "," + csv_field("queue_" + q.name + "_gpus");
  return h + ",pending_jobs\n";
}

void csv_rows(const Report& r, const std::string& config, std::string& out) {
  for (const Sample& s : r.timeline) {
    if (!config.empty()) out += config + ",";
    out += num(static_cast<double>(s.time) / 1e9) + "," + num(s.gpu_used) + "," + num(r.gpu_total);
    for (double g : s.queue_gpus) out += "," + num(g);
    out += "," + std::to_string(s.pending_jobs) + "\n";
  }
}

/// The timeline's piecewise-constant values averaged over `buckets` equal spans of [0, end].
struct Series {
  std::vector<double> used;  ///< fraction of the cluster's GPUs
  std::vector<std::vector<double>> queues;  ///< per queue, fraction of the cluster's GPUs
};

Series resample(const Report& r, double end, int buckets) {
  Series s;
  s.used.assign(static_cast<std::size_t>(buckets), 0);
  s.queues.assign(r.queues.size(), std::vector<double>(static_cast<std::size_t>(buckets), 0));
  if (r.gpu_total <= 0 || end <= 0) return s;
  const double width = end / buckets;
  const auto& tl = r.timeline;
  for (std::size_t i = 0; i < tl.size(); ++i) {
    const double from = static_cast<double>(tl[i].time) / 1e9;
    const double to = i + 1 < tl.size() ? static_cast<double>(tl[i + 1].time) / 1e9 : end;
    if (to <= from) continue;
    // Spread [from, to) over the buckets it covers.
    for (int b = std::max(0, static_cast<int>(from / width)); b < buckets; ++b) {
      const double lo = std::max(from, b * width), hi = std::min(to, (b + 1) * width);
      if (hi <= lo) {
        if (b * width >= to) break;
        continue;
      }
      const double f = (hi - lo) / width;
      s.used[static_cast<std::size_t>(b)] += f * tl[i].gpu_used / r.gpu_total;
      for (std::size_t q = 0; q < r.queues.size() && q < tl[i].queue_gpus.size(); ++q) {
        s.queues[q][static_cast<std::size_t>(b)] += f * tl[i].queue_gpus[q] / r.gpu_total;
      }
    }
  }
  return s;
}

const char* const kColors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                               "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

}  // namespace

json Report::to_json() const {
  json queues_json = json::object();
  for (const auto& q : queues) {
    queues_json[q.name] = {{"weight", q.weight},
                           {"jobs", q.jobs},
                           {"completed", q.completed},
                           {"unfinished", q.jobs - q.completed},
                           {"makespanSeconds", round_to(q.makespan, 1e-3)},
                           {"gpuUtilisation", round_to(q.gpu_utilisation, 1e-4)},
                           {"gpuSeconds", round_to(q.gpu_seconds, 1e-3)},
                           {"share", round_to(q.share, 1e-4)},
                           {"deserved", round_to(q.deserved, 1e-4)},
                           {"waitSeconds", wait_json(q.wait)},
                           {"preemptions", q.preemptions},
                           {"restarts", q.restarts}};
  }
  return {{"schedulerConf", config},
          {"nodes", nodes},
          {"gpus", round_to(gpu_total, 1e-3)},
          {"sessions", sessions},
          {"virtualSeconds", round_to(virtual_seconds, 1e-3)},
          {"overall",
           {{"jobs", jobs},
            {"completed", completed},
            {"unfinished", jobs - completed},
            {"makespanSeconds", round_to(makespan, 1e-3)},
            {"gpuUtilisation", round_to(gpu_utilisation, 1e-4)},
            {"waitSeconds", wait_json(wait)},
            {"preemptions", preemptions},
            {"restarts", restarts}}},
          {"queues", queues_json}};
}

std::string timeline_csv(const Report& r) {
  std::string out = csv_header(r, false);
  csv_rows(r, "", out);
  return out;
}

std::string timeline_csv(const Report& a, const Report& b) {
  std::string out = csv_header(a, true);
  csv_rows(a, "baseline", out);
  csv_rows(b, "compare", out);
  return out;
}

std::string plot_svg(const std::vector<const Report*>& reports) {
  constexpr int kWidth = 960, kLeft = 70, kRight = 190, kTop = 40, kPanel = 200, kGap = 60, kBuckets = 400;
  const int plot_w = kWidth - kLeft - kRight;
  const int height = kTop + 2 * kPanel + kGap + 50;
  double end = 0;
  for (const Report* r : reports) {
    if (!r->timeline.empty()) end = std::max(end, static_cast<double>(r->timeline.back().time) / 1e9);
  }
  if (end <= 0) end = 1;
  auto x_of = [&](int b) { return kLeft + plot_w * (b + 0.5) / kBuckets; };
  std::string svg = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(kWidth) + "\" height=\"" + std::to_string(height) +
         "\" viewBox=\"0 0 " + std::to_string(kWidth) + " " + std::to_string(height) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  // Two panels: utilisation (lines, one per report), then the first report's queue shares.
  const int top1 = kTop, top2 = kTop + kPanel + kGap;
  auto axes = [&](int top, const std::string& title, const std::string& ylabel) {
    svg += "<text x=\"" + std::to_string(kLeft) + "\" y=\"" + std::to_string(top - 10) + "\" font-size=\"14\" font-weight=\"bold\">" +
           xml_escape(title) + "</text>\n";
    svg += "<rect x=\"" + std::to_string(kLeft) + "\" y=\"" + std::to_string(top) + "\" width=\"" + std::to_string(plot_w) +
           "\" height=\"" + std::to_string(kPanel) + "\" fill=\"none\" stroke=\"#333\"/>\n";
    for (int i = 0; i <= 4; ++i) {
      const int y = top + kPanel - kPanel * i / 4;
      svg += "<line x1=\"" + std::to_string(kLeft - 4) + "\" y1=\"" + std::to_string(y) + "\" x2=\"" + std::to_string(kLeft + plot_w) +
             "\" y2=\"" + std::to_string(y) + "\" stroke=\"#ddd\"/>\n";
      svg += "<text x=\"" + std::to_string(kLeft - 8) + "\" y=\"" + std::to_string(y + 4) + "\" text-anchor=\"end\">" +
             std::to_string(25 * i) + "%</text>\n";
    }
    for (int i = 0; i <= 5; ++i) {
      const int x = kLeft + plot_w * i / 5;
      svg += "<text x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(top + kPanel + 16) + "\" text-anchor=\"middle\">" +
             num(round(end * i / 5 * 10) / 10) + "s</text>\n";
    }
    svg += "<text x=\"16\" y=\"" + std::to_string(top + kPanel / 2) + "\" transform=\"rotate(-90 16 " + std::to_string(top + kPanel / 2) +
           ")\" text-anchor=\"middle\">" + xml_escape(ylabel) + "</text>\n";
  };
  auto y_of = [&](int top, double f) { return top + kPanel - kPanel * std::clamp(f, 0.0, 1.0); };
  auto pt = [&](double x, double y) { return num(round(x * 10) / 10) + "," + num(round(y * 10) / 10); };

  axes(top1, "GPU utilisation over time", "GPUs used");
  for (std::size_t i = 0; i < reports.size(); ++i) {
    const Series s = resample(*reports[i], end, kBuckets);
    std::string points;
    for (int b = 0; b < kBuckets; ++b) points += (b ? " " : "") + pt(x_of(b), y_of(top1, s.used[static_cast<std::size_t>(b)]));
    svg += "<polyline fill=\"none\" stroke=\"" + std::string(kColors[i % 10]) + "\" stroke-width=\"1.5\"" +
           (i > 0 ? " stroke-dasharray=\"6 3\"" : "") + " points=\"" + points + "\"/>\n";
    const int ly = top1 + 14 + 18 * static_cast<int>(i);
    svg += "<line x1=\"" + std::to_string(kLeft + plot_w + 12) + "\" y1=\"" + std::to_string(ly - 4) + "\" x2=\"" +
           std::to_string(kLeft + plot_w + 32) + "\" y2=\"" + std::to_string(ly - 4) + "\" stroke=\"" + kColors[i % 10] +
           "\" stroke-width=\"2\"" + (i > 0 ? " stroke-dasharray=\"6 3\"" : "") + "/>\n";
    svg += "<text x=\"" + std::to_string(kLeft + plot_w + 38) + "\" y=\"" + std::to_string(ly) + "\">" +
           xml_escape(reports[i]->config) + "</text>\n";
  }

  if (!reports.empty()) {
    const Report& r = *reports.front();
    axes(top2, "Queue shares of the cluster's GPUs (" + r.config + ")", "share");
    const Series s = resample(r, end, kBuckets);
    std::vector<double> below(static_cast<std::size_t>(kBuckets), 0);
    for (std::size_t q = 0; q < r.queues.size(); ++q) {
      std::string points;
      for (int b = 0; b < kBuckets; ++b) points += (b ? " " : "") + pt(x_of(b), y_of(top2, below[static_cast<std::size_t>(b)] + s.queues[q][static_cast<std::size_t>(b)]));
      for (int b = kBuckets - 1; b >= 0; --b) points += " " + pt(x_of(b), y_of(top2, below[static_cast<std::size_t>(b)]));
      for (int b = 0; b < kBuckets; ++b) below[static_cast<std::size_t>(b)] += s.queues[q][static_cast<std::size_t>(b)];
      svg += "<polygon fill=\"" + std::string(kColors[q % 10]) + "\" fill-opacity=\"0.8\" stroke=\"none\" points=\"" + points + "\"/>\n";
      const int ly = top2 + 14 + 18 * static_cast<int>(q);
      svg += "<rect x=\"" + std::to_string(kLeft + plot_w + 12) + "\" y=\"" + std::to_string(ly - 10) + "\" width=\"20\" height=\"10\" fill=\"" +
             kColors[q % 10] + "\"/>\n";
      svg += "<text x=\"" + std::to_string(kLeft + plot_w + 38) + "\" y=\"" + std::to_string(ly) + "\">" + xml_escape(r.queues[q].name) +
             " (deserved " + num(round(r.queues[q].deserved * 1000) / 10) + "%)</text>\n";
    }
  }
  svg += "<text x=\"" + std::to_string(kLeft + plot_w / 2) + "\" y=\"" + std::to_string(height - 12) +
         "\" text-anchor=\"middle\">virtual time</text>\n";
  svg += "</svg>\n";
  return svg;
}

}  // namespace kai::sim
