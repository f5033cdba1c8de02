//===- ir/DotWriter.cpp - The graph as Graphviz DOT -----------------------===//
#include "ir/DotWriter.h"

#include "ir/Printer.h"

#include <algorithm>
#include <unordered_map>

namespace gradc::ir {

namespace {

constexpr const char *kForwardColor = "#dbe9f6";
constexpr const char *kBackwardColor = "#f9d3b8";

/// A DOT string literal; `\n` in `s` becomes a line break in the label.
std::string dotString(const std::string &s) {
  std::string r = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      r += '\\';
    if (c == '\n')
      r += "\\n";
    else
      r += c;
  }
  return r + "\"";
}

const char *shapeOf(OpKind k) {
  switch (k) {
  case OpKind::Input:
    return "invhouse";
  case OpKind::Param:
    return "cylinder";
  case OpKind::State:
    return "box3d";
  case OpKind::Noise:
    return "octagon";
  case OpKind::Constant:
  case OpKind::Iota:
    return "ellipse";
  case OpKind::Recurrence:
    return "hexagon";
  case OpKind::Yield:
    return "invtriangle";
  default:
    return "box";
  }
}

class DotWriter {
public:
  DotWriter(const Graph &g, const DotOptions &opts) : g_(g), opts_(opts) {
    for (size_t k = 0; k < opts.kernels.size(); ++k)
      for (const Op *op : opts.kernels[k])
        kernelOf_.emplace(op, static_cast<int>(k)); // the first group wins
  }

  std::string run() {
    out_ = "digraph " + dotString(g_.modelName) + " {\n";
    out_ += "  compound=true;\n  node [fontname=\"Helvetica\", fontsize=10, style=filled];\n";
    out_ += "  edge [fontname=\"Helvetica\", fontsize=9];\n";
    writeLegend();
    writeRegion(g_.top, 1);
    writeEdges(g_.top);
    writeNamedValues();
    return out_ + "}\n";
  }

private:
  void line(int indent, const std::string &s) { out_ += std::string(2 * indent, ' ') + s + "\n"; }

  void writeLegend() {
    line(1, "subgraph cluster_legend {");
    line(2, "label=\"legend\"; style=rounded; color=\"#999999\";");
    auto item = [&](const char *id, const char *label, const char *shape, const char *color) {
      line(2, std::string(id) + " [label=" + dotString(label) + ", shape=" + shape +
                  ", fillcolor=\"" + color + "\"];");
    };
    item("legend_fwd", "forward op", "box", kForwardColor);
    item("legend_bwd", "backward op", "box", kBackwardColor);
    item("legend_input", "input", shapeOf(OpKind::Input), "white");
    item("legend_param", "param", shapeOf(OpKind::Param), "white");
    item("legend_state", "state", shapeOf(OpKind::State), "white");
    item("legend_noise", "noise", shapeOf(OpKind::Noise), "white");
    item("legend_rec", "recurrence", shapeOf(OpKind::Recurrence), "white");
    // Invisible edges keep the legend in one compact column.
    line(2, "legend_fwd -> legend_bwd -> legend_input -> legend_param -> legend_state -> "
            "legend_noise -> legend_rec [style=invis];");
    line(1, "}");
  }

  std::string label(const Op &op) {
    std::string s = describeOp(op);
    if (op.opClass() == OpClass::Leaf && !op.name.empty() && op.kind != OpKind::Constant)
      s += " \"" + op.name + "\"";
    if (op.kind == OpKind::Constant)
      s += " " + formatDouble(op.value);
    if (op.kind == OpKind::Recurrence)
      s +=
          std::string("\n") + std::to_string(op.steps) + " steps" + (op.reverse ? ", reverse" : "");
    for (const Value *v : op.results)
      s += "\n" + (v ? v->type.str() : std::string("?"));
    return s;
  }

  void writeNode(const Op &op, int indent) {
    std::string id = "n" + std::to_string(nodes_.size());
    nodes_.emplace(&op, id);
    std::string style =
        op.opClass() == OpClass::Leaf || op.kind == OpKind::Recurrence || op.kind == OpKind::Yield
            ? "filled"
            : "\"filled,rounded\"";
    line(indent, id + " [label=" + dotString(label(op)) + ", shape=" + shapeOf(op.kind) +
                     ", style=" + style + ", fillcolor=\"" +
                     (op.backward ? kBackwardColor : kForwardColor) + "\"];");
  }

  void writeOp(const Op &op, int indent) {
    if (op.kind != OpKind::Recurrence || !op.body)
      return writeNode(op, indent);
    line(indent, "subgraph cluster_" + std::to_string(clusters_++) + " {");
    line(indent + 1, "label=" + dotString(describeOp(op)) +
                         "; style=rounded; color=\"#3465a4\"; penwidth=1.5;");
    writeNode(op, indent + 1);
    writeRegion(*op.body, indent + 1);
    line(indent, "}");
  }

  void writeRegion(const Region &r, int indent) {
    for (const Value *a : r.args) {
      if (!a)
        continue;
      std::string id = "a" + std::to_string(args_.size());
      args_.emplace(a, id);
      line(indent, id + " [label=" + dotString(printValueName(a) + "\n" + a->type.str()) +
                       ", shape=ellipse, style=dashed];");
    }
    // Ops outside any kernel first, then one cluster per kernel present here.
    std::vector<int> kernelsHere;
    for (auto &op : r.ops) {
      auto it = kernelOf_.find(op.get());
      if (it == kernelOf_.end()) {
        writeOp(*op, indent);
      } else if (std::find(kernelsHere.begin(), kernelsHere.end(), it->second) ==
                 kernelsHere.end()) {
        kernelsHere.push_back(it->second);
      }
    }
    for (int k : kernelsHere) {
      std::string name = static_cast<size_t>(k) < opts_.kernelNames.size()
                             ? opts_.kernelNames[k]
                             : "kernel " + std::to_string(k);
      line(indent, "subgraph cluster_" + std::to_string(clusters_++) + " {");
      line(indent + 1, "label=" + dotString(name) + "; style=dashed; color=\"#555555\";");
      for (auto &op : r.ops) {
        auto it = kernelOf_.find(op.get());
        if (it != kernelOf_.end() && it->second == k)
          writeOp(*op, indent + 1);
      }
      line(indent, "}");
    }
  }

  /// The node that produces `v`, or "" when it was not drawn.
  std::string source(const Value *v) const {
    if (!v)
      return "";
    if (v->def) {
      auto it = nodes_.find(v->def);
      return it == nodes_.end() ? "" : it->second;
    }
    auto it = args_.find(v);
    return it == args_.end() ? "" : it->second;
  }

  void edge(const Value *from, const std::string &to, std::string attrs) {
    std::string src = source(from);
    if (src.empty() || to.empty())
      return;
    // A recurrence has several results: say which one an edge carries.
    if (from->def && from->def->results.size() > 1)
      attrs += std::string(attrs.empty() ? "" : ", ") + "label=" + dotString(from->name);
    line(1, src + " -> " + to + (attrs.empty() ? "" : " [" + attrs + "]") + ";");
  }

  void writeEdges(const Region &r) {
    for (auto &op : r.ops) {
      std::string to = nodes_.at(op.get());
      for (const Value *v : op->operands)
        edge(v, to, "");
      for (const Value *s : op->symbols)
        edge(s, to, "style=dotted");
      if (op->kind == OpKind::Yield && r.parentOp)
        line(1, to + " -> " + nodes_.at(r.parentOp) +
                    " [style=dashed, constraint=false, label=\"next step\"];");
      if (op->body)
        writeEdges(*op->body);
    }
  }

  void writeNamedValues() {
    int n = 0;
    auto sink = [&](const std::string &what, const NamedValue &nv) {
      std::string id = "out" + std::to_string(n++);
      line(1, id + " [label=" + dotString(what + " \"" + nv.name + "\"") +
                  ", shape=plaintext, style=\"\"];");
      edge(nv.value, id, "");
    };
    for (auto &o : g_.outputs)
      sink("output", o);
    if (g_.loss.value)
      sink("minimize", g_.loss);
    for (auto &m : g_.metrics)
      sink("metric", m);
    for (auto &gr : g_.gradients)
      sink("gradient", gr);
    for (auto &u : g_.updates)
      if (u.state && u.state->def)
        edge(u.value, source(u.state), "style=dashed, constraint=false, label=\"update\"");
  }

  const Graph &g_;
  const DotOptions &opts_;
  std::string out_;
  std::unordered_map<const Op *, int> kernelOf_;
  std::unordered_map<const Op *, std::string> nodes_;
  std::unordered_map<const Value *, std::string> args_;
  int clusters_ = 0;
};

} // namespace

std::string writeDot(const Graph &g, const DotOptions &opts) { return DotWriter(g, opts).run(); }

} // namespace gradc::ir
