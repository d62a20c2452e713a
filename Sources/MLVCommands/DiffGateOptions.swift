// Options and the finish (render, gates, exit status) shared by `diff`, `metrics diff` and
// `params diff`.
import ArgumentParser
import Foundation
import MLVCore

enum DiffFormat: String, ExpressibleByArgument, CaseIterable { case text, md, json, html }

/// Options shared by `diff`, `metrics diff` and `params diff`.
struct DiffGateOptions: ParsableArguments {
    @Option(help: "Output format: text, md (GitHub markdown for a pull request), json, html (one self-contained file with charts).") var format: DiffFormat = .text
    @Flag(help: "Exit with status 1 when anything differs.") var exitCode = false
    @Option(name: .customLong("fail-on"), help: ArgumentHelp("Fail (exit 10 + its position) when EXPR holds; repeatable.", valueName: "EXPR"))
    var failOn: [String] = []

    func gates() throws -> [Gate] { try failOn.map { try Gate(parsing: $0) } }

    @Flag(help: ArgumentHelp(Pager.noPagerHelp))
    var noPager = false

    /// Prints the report and exits with the documented status.
    func finish(_ report: DiffReport) throws {
        let gates = try self.gates()
        for t in report.targets { for w in t.warnings ?? [] { Out.err("warning: \(w)") } }
        var results: [GateResult] = []
        var undecided: DiffError? = nil
        for g in gates {
            do {
                let v = try g.value(in: report)
                results.append(GateResult(expression: g.text, value: v, fired: v.map { g.holds($0.value) } ?? false))
            } catch let e as DiffError {
                // The report still stands; the exit status (2) says the gate could not be decided.
                guard case .gateUnknown = e else { throw e }
                undecided = undecided ?? e
                results.append(GateResult(expression: g.text, value: nil, fired: false))
            }
        }
        let output: String
        switch format {
        case .json: output = try DiffRender.json(report, results)
        case .text: output = DiffRender.text(report, results, color: Out.useColor)
        case .md: output = DiffRender.markdown(report, results, fullReport: DiffGateOptions.fullReportCommand(Array(CommandLine.arguments.dropFirst())))
        case .html: output = DiffRender.html(report, results)
        }
        Pager.show(output, allowed: !noPager)
        if let i = results.firstIndex(where: \.fired) { throw ExitCode(ExitStatus.gate(i)) }
        if let undecided { throw undecided }
        if exitCode && report.hasChanges { throw ExitCode(ExitStatus.differences.rawValue) }
    }

    /// The command that prints the full report a shortened markdown one points to: this
    /// command line with `--format html`, or, when that is too long to quote, a description.
    static func fullReportCommand(_ args: [String]) -> String {
        var out = ["mlv"], i = 0, replaced = false
        while i < args.count {
            let a = args[i]
            if a == "--format", i + 1 < args.count { out += ["--format", "html"]; i += 2; replaced = true; continue }
            if a.hasPrefix("--format=") { out.append("--format=html"); i += 1; replaced = true; continue }
            out.append(shellQuote(a))
            i += 1
        }
        if !replaced { out += ["--format", "html"] }
        let command = out.joined(separator: " ")
        return command.utf8.count <= 300 ? command : "this mlv command with --format html"
    }
}

/// `mlv metrics diff` and `mlv params diff`: `mlv diff` restricted to one kind.
func diffOnly(_ kind: TargetKind, repo: RepoOptions, gate: DiffGateOptions, fetching: FetchOptions, revisions: [String]) throws {
    let o = DiffOptions(from: revisions.first, to: revisions.count > 1 ? revisions[1] : nil, onlyKinds: [kind])
    let ws = try repo.open()
    try gate.finish(try DiffEngine(ws).run(o) { try fetching.fetch(ws, needed: $0, paths: []) })
}
