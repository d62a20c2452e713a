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

    /// Prints the report and exits with the documented status.
    func finish(_ report: DiffReport) throws {
        let gates = try self.gates()
        for t in report.targets { for w in t.warnings ?? [] { MLVCommands.Out.err("warning: \(w)") } }
        var results: [GateResult] = []
        var undecided: DiffError? = nil
        for g in gates {
            do {
                let v = try g.value(in: report)
                results.append(GateResult(expression: g.text, value: v, fired: v.map(g.holds) ?? false))
            } catch let e as DiffError {
                // The report still stands; the exit status (2) says the gate could not be decided.
                guard case .gateUnknown = e else { throw e }
                undecided = undecided ?? e
                results.append(GateResult(expression: g.text, value: nil, fired: false))
            }
        }
        switch format {
        case .json:
            struct Out: Encodable { let report: DiffReport; let gates: [GateResult]
                enum CodingKeys: String, CodingKey { case from, to, targets, metrics, params, gates }
                func encode(to e: any Encoder) throws {
                    var c = e.container(keyedBy: CodingKeys.self)
                    try c.encode(report.from, forKey: .from); try c.encode(report.to, forKey: .to)
                    try c.encode(report.targets, forKey: .targets); try c.encode(report.metrics, forKey: .metrics)
                    try c.encode(report.params, forKey: .params); try c.encode(gates, forKey: .gates)
                }
            }
            try MLVCommands.Out.json(Out(report: report, gates: results))
        case .text: print(DiffRender.text(report, results, color: MLVCommands.Out.stdoutIsTerminal), terminator: "")
        case .md: print(DiffRender.markdown(report, results), terminator: "")
        case .html: print(DiffRender.html(report, results), terminator: "")
        }
        if let i = results.firstIndex(where: \.fired) { throw ExitCode(Int32(10 + min(i, 89))) }
        if let undecided { throw undecided }
        if exitCode && report.hasChanges { throw ExitCode(ExitStatus.differences.rawValue) }
    }
}

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what changed in data, models, metrics and params between commits.",
        discussion: """
        mlv diff              HEAD against the working tree
        mlv diff A            commit A against the working tree
        mlv diff A B          commit A against commit B (branches, tags, ids, HEAD~N)
        Add `-- PATH...` to compare only some targets. Nothing is checked out.

        For datasets (CSV, TSV): schema (columns added, removed, reordered, type changed), \
        rows added / removed / modified (with --key, matched by key, with cell changes for \
        the first --rows rows; without, compared as a multiset), duplicate keys, and per \
        column count, nulls, distinct, mean, std, min, max, median and drift (population \
        stability index; marked ! above --drift-threshold). Folders: files added, removed, \
        modified, renamed. Models and other binaries: the share of bytes unchanged. \
        Metrics and params (JSON, YAML, CSV): every value old, new, delta, relative change, \
        nested keys flattened with dots.

        Distinct counts are exact; past 8 GiB of spilled hashes in one diff, a column's \
        count is an estimate, marked as such (`distinct_exact` false in JSON). A repeated column name is shown with its position, `v (column 3)`; JSON \
        gives every column's `index`. A first line of numbers only is data (columns \
        column_1, column_2, ...).

        Limits: a table that does not parse (a ragged row, an unclosed quote), wider than \
        10,000 columns or with a record over 16 MiB, and a safetensors header over 16 MiB, \
        get the byte-level summary and a warning naming file and line, on stderr and in \
        the report (`warnings` in JSON); the rest of the report stands and the exit status \
        is as without it. A --fail-on drift() over such a table exits 2. A YAML file whose \
        aliases expand it past 100,000 nodes more than its bytes is an error.

        Symbols: + added  - removed  ~ modified  > renamed  ▲ up  ▼ down  ! drifted

        Gates for CI (exit status):
          --exit-code                         1 when anything differs
          --fail-on 'roc_auc.test < -0.01'    10 when the first --fail-on holds, 11 the second…
        Terms: NAME (new − old), rel(NAME), old(NAME), new(NAME), drift(PATH); operators
        < <= > >= == !=.

        Examples:
          mlv diff HEAD~1 HEAD --key id
          mlv diff main HEAD --format md > review.md
          mlv diff origin/main HEAD --fail-on 'accuracy.test < -0.01' --fail-on 'drift(data/train.csv) > 0.2'
        """)

    @OptionGroup var repo: RepoOptions
    @Option(help: ArgumentHelp("Key columns for datasets, comma-separated.", valueName: "col[,col]")) var key: String?
    @Option(help: "Modified rows shown with their cell changes (and added/removed samples).") var rows = 5
    @Option(help: "Drift (PSI) above which a column is marked drifted.") var driftThreshold = 0.2
    @OptionGroup var gate: DiffGateOptions
    @Argument(help: "The old revision (default HEAD).") var from: String?
    @Argument(help: "The new revision (default: the working tree).") var to: String?
    @Argument(parsing: .postTerminator, help: "After --: targets or paths to compare.") var paths: [String] = []

    func validate() throws { _ = try gate.gates() }

    func run() throws {
        let keys = key.map { $0.split(separator: ",").map { String($0).trimmed } } ?? []
        let o = DiffOptions(from: from, to: to, paths: paths,
                            table: TableDiffOptions(key: keys, rowSamples: rows, driftThreshold: driftThreshold))
        try gate.finish(try repo.open().diff(o))
    }
}

struct Metrics: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show or compare metrics.", subcommands: [Show.self, DiffMetrics.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show metric values at a revision (default: the working tree).",
            discussion: "Examples:\n  mlv metrics show\n  mlv metrics show HEAD~1 --format json")
        @OptionGroup var repo: RepoOptions
        @Option(help: "Output format: text, md, json.") var format: DiffFormat = .text
        @Argument(help: "A revision.") var revision: String?

        func run() throws {
            let values = try repo.open().metricValues(at: revision).map { ($0.file, $0.key, $0.new?.description ?? "") }
            switch format {
            case .json:
                struct V: Encodable { let file, key, value: String }
                try Out.json(values.map { V(file: $0.0, key: $0.1, value: $0.2) })
            case .md, .html:
                print("| file | metric | value |\n|---|---|---:|")
                for v in values { print("| \(v.0) | \(v.1) | \(v.2) |") }
            case .text:
                let w = values.map(\.1.count).max() ?? 0
                for v in values { print("\(v.0)  \(pad(v.1, w))  \(v.2)") }
            }
        }
    }

    struct DiffMetrics: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "diff", abstract: "Compare metrics between revisions (same gates as mlv diff).",
            discussion: "Examples:\n  mlv metrics diff\n  mlv metrics diff main HEAD --fail-on 'rel(loss) > 0.05'")
        @OptionGroup var repo: RepoOptions
        @OptionGroup var gate: DiffGateOptions
        @Argument(help: "Up to two revisions.") var revisions: [String] = []

        func validate() throws { if revisions.count > 2 { throw ValidationError("at most two revisions") } }

        func run() throws { try diffOnly(.metrics, repo: repo, gate: gate, revisions: revisions) }
    }
}

/// `mlv metrics diff` and `mlv params diff`: `mlv diff` restricted to one kind.
func diffOnly(_ kind: TargetKind, repo: RepoOptions, gate: DiffGateOptions, revisions: [String]) throws {
    let o = DiffOptions(from: revisions.first, to: revisions.count > 1 ? revisions[1] : nil, onlyKinds: [kind])
    try gate.finish(try repo.open().diff(o))
}

struct Params: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Compare params.", subcommands: [DiffParams.self])

    struct DiffParams: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "diff", abstract: "Compare params between revisions (same gates as mlv diff).",
            discussion: "Example:\n  mlv params diff HEAD~1 HEAD")
        @OptionGroup var repo: RepoOptions
        @OptionGroup var gate: DiffGateOptions
        @Argument(help: "Up to two revisions.") var revisions: [String] = []

        func validate() throws { if revisions.count > 2 { throw ValidationError("at most two revisions") } }

        func run() throws { try diffOnly(.params, repo: repo, gate: gate, revisions: revisions) }
    }
}

struct DiffDriver: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff-driver",
        abstract: "Summarize a pointer file's data for `git diff` (a textconv driver).",
        discussion: """
        With these two lines, plain `git diff` and `git log -p` show what changed in the data \
        (columns, counts, statistics, files) instead of two snapshot ids:
          git config diff.mlv.textconv "mlv diff-driver"
          echo '*.mlv diff=mlv' >> .gitattributes
        """)

    @OptionGroup var repo: RepoOptions
    @Argument(help: "A pointer file (git passes a temporary copy).") var file: String

    func run() throws {
        let bytes = try FSRead.all(file)
        print(try repo.open().summarize(pointerBytes: bytes, name: file), terminator: "")
    }
}
