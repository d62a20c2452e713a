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

    @Flag(help: "Print to stdout even on a terminal (by default a terminal gets the pager: $MLV_PAGER, $PAGER or `less -FRX`).")
    var noPager = false

    /// Prints the report and exits with the documented status.
    func finish(_ report: DiffReport) throws {
        let gates = try self.gates()
        for t in report.targets { for w in t.warnings ?? [] { MLVCommands.Out.err("warning: \(w)") } }
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
            output = try MLVCommands.Out.jsonText(Out(report: report, gates: results)) + "\n"
        case .text: output = DiffRender.text(report, results, color: MLVCommands.Out.useColor)
        case .md: output = DiffRender.markdown(report, results, fullReport: DiffGateOptions.fullReportCommand(Array(CommandLine.arguments.dropFirst())))
        case .html: output = DiffRender.html(report, results)
        }
        Pager.show(output, allowed: !noPager)
        if let i = results.firstIndex(where: \.fired) { throw ExitCode(Int32(10 + min(i, 89))) }
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

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what changed in data, models, metrics and params between commits.",
        discussion: """
        mlv diff              HEAD against the working tree
        mlv diff A            commit A against the working tree
        mlv diff A B          commit A against commit B (branches, tags, ids, HEAD~N)
        Add `-- PATH...` to compare only some targets. Nothing is checked out. Data of a \
        revision this clone lacks is fetched from the default remote first (verified as \
        `mlv fetch` does); --offline forbids that.

        For datasets (CSV, TSV): schema (columns added, removed, reordered, type changed), \
        rows added / removed / modified (with --key, matched by key, with cell changes for \
        the first --rows rows; without, compared as a multiset), duplicate keys, and per \
        column count, nulls, distinct, mean, std, min, max, median and drift (population \
        stability index; marked ! above --drift-threshold). Medians are exact within 128 MiB \
        of values per diff; past that a column's median is taken from a sample and marked ≈ \
        ("median_exact": false in JSON). drift: PSI over up to 4,096 sampled values per \
        side, only for columns with at least 100 values on both sides (otherwise blank, \
        no drift field in JSON, and a drift() gate over it has no value and does not fire). \
        Folders: files added, removed, \
        modified, renamed. Models and other binaries: how much of the new version is in stored chunks the old \
        one had (chunk reuse, about 64 KiB a chunk, not a byte-by-byte comparison). \
        Metrics and params (JSON, YAML, CSV): every value old, new, delta, relative change, \
        nested keys flattened with dots. An unchanged value's delta is 0; a change with no \
        numeric difference (to or from NaN) has none (null in JSON). Values print exactly as their file wrote them; NaN \
        and infinities as NaN, Infinity, -Infinity (strings in JSON).

        Distinct counts are exact; past 8 GiB of spilled hashes in one diff, a column's \
        count is an estimate, marked as such (`distinct_exact` false in JSON). A repeated column name is shown with its position, `v (column 3)`; JSON \
        gives every column's `index`. A first line is data when its fields have the types \
        of their columns in the next 20 rows, in the spirit of Python's csv.Sniffer \
        (columns column_1, column_2, ...); blank lines are no rows. JSON Lines columns are \
        the keys of all lines, in order of first appearance.

        Limits: a table that does not parse (a ragged row, an unclosed quote), wider than \
        10,000 columns or with a record over 16 MiB, and a safetensors header over 16 MiB, \
        get the byte-level summary and a warning naming file and line, on stderr and in \
        the report (`warnings` in JSON); the rest of the report stands and the exit status \
        is as without it. A --fail-on drift() over such a table exits 2. A YAML file whose \
        aliases expand it past 100,000 nodes more than its bytes is an error.

        Keys: `--key id` applies to every dataset; one without those columns is compared as \
        a multiset, with a note in every format (`notes` in JSON), and when no dataset \
        compared has them it is an error (a typo, exit 2). `--key data/a.csv=id,ts` \
        keys one dataset (or the tables of a folder target), overrides the global key and \
        mlv.yaml's, and a column it names must exist (exit 2 otherwise); PATH is what comes \
        before the last `=`. Rows are compared by the bytes of their cells. Rows sharing a \
        key are matched as a multiset within the key: identical rows pair off, a key left \
        with one old and one new row is one modified row, and the other rows left are added \
        or removed, so old + added - removed = new always.

        Symbols: + added  - removed  ~ modified  > renamed  ▲ up  ▼ down  ! drifted

        Formats carry the same facts, rows sampled (--rows) included. text clips values past \
        80 characters with "…" and, on a terminal, goes through a pager as git does \
        ($MLV_PAGER, else $PAGER, else `less -FRX`; --no-pager to print directly), in colour \
        unless NO_COLOR is set. md stays under 60,000 characters (a pull-request comment holds \
        65,536): what does not fit is counted in a note that names the command for the full \
        report (--format html or json, which keep every value whole).

        Gates for CI (exit status):
          --exit-code                         1 when anything differs
          --fail-on 'roc_auc.test < -0.01'    10 when the first --fail-on holds, 11 the second…
        Terms: NAME (new − old; FILE:NAME when several files have NAME), rel(NAME), \
        old(NAME), new(NAME), drift(PATH); operators < <= > >= == !=.

        Examples:
          mlv diff HEAD~1 HEAD --key id
          mlv diff HEAD~1 HEAD --key id --key data/events.csv=user,ts
          mlv diff main HEAD --format md > review.md
          mlv diff origin/main HEAD --fail-on 'accuracy.test < -0.01' --fail-on 'drift(data/train.csv) > 0.2'
        """)

    @OptionGroup var repo: RepoOptions
    @Option(help: ArgumentHelp("Key columns, comma-separated: for every dataset (one lacking them is compared as a multiset, with a note), or with PATH= for that dataset only (its columns must exist); repeatable.",
                               valueName: "[PATH=]col[,col]"))
    var key: [String] = []
    @Option(help: "Modified rows shown with their cell changes (and added/removed samples).") var rows = 5
    @Option(help: "Drift (PSI) above which a column is marked drifted.") var driftThreshold = 0.2
    @OptionGroup var gate: DiffGateOptions
    @OptionGroup var fetching: FetchOptions
    @Argument(help: "The old revision (default HEAD).") var from: String?
    @Argument(help: "The new revision (default: the working tree).") var to: String?
    @Argument(parsing: .postTerminator, help: "After --: targets or paths to compare.") var paths: [String] = []

    func validate() throws {
        _ = try gate.gates()
        _ = try keys()
    }

    /// `--key id,ts` (every dataset) and `--key data/a.csv=id` (one): split at the last `=`,
    /// as paths may hold one (`date=2024-01-01/part.csv`) where column names rarely do.
    func keys() throws -> (global: [String], perTarget: [String: [String]]) {
        var global: [String]? = nil
        var perTarget: [String: [String]] = [:]
        for k in key {
            let (path, list) = k.lastIndex(of: "=").map { (String(k[..<$0]), String(k[k.index(after: $0)...])) } ?? (nil, k)
            let cols = list.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmed }
            guard !cols.isEmpty, !cols.contains("") else {
                throw ValidationError("--key \(k.debugDescription): name the key columns, comma-separated (--key id or --key data/a.csv=id,ts)")
            }
            if let path {
                guard !path.isEmpty else { throw ValidationError("--key \(k.debugDescription): name the dataset before '=' (--key data/a.csv=id)") }
                guard perTarget[path] == nil else { throw ValidationError("--key: \(path) is given a key twice") }
                perTarget[path] = cols
            } else {
                guard global == nil else { throw ValidationError("--key: one key for every dataset; give the others as --key PATH=COL") }
                global = cols
            }
        }
        return (global ?? [], perTarget)
    }

    func run() throws {
        let keys = try keys()
        var o = DiffOptions(from: from, to: to, paths: paths,
                            table: TableDiffOptions(key: keys.global, rowSamples: rows, driftThreshold: driftThreshold))
        o.keys = keys.perTarget
        let ws = try repo.open()
        try gate.finish(try ws.diff(o) { try fetching.fetch(ws, needed: $0, paths: paths) })
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
        @Option(help: "Output format: text, md, json, html.") var format: DiffFormat = .text
        @OptionGroup var fetching: FetchOptions
        @Argument(help: "A revision.") var revision: String?

        func run() throws {
            let ws = try repo.open()
            try fetching.fetch(ws, revs: [revision], kinds: [.metrics])
            let shown = try ws.metricValues(at: revision)
            // Every format prints a value as its file wrote it; JSON keeps numbers numbers
            // (NaN and the infinities: the strings "NaN", "Infinity", "-Infinity").
            let values = shown.map { ($0.file, $0.key, $0.new?.description ?? "") }
            switch format {
            case .json:
                struct V: Encodable { let file, key: String; let value: MetricValue? }
                try Out.json(shown.map { V(file: $0.file, key: $0.key, value: $0.new) })
            case .md:
                func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
                print("| file | metric | value |\n|---|---|---:|")
                for v in values { print("| \(cell(v.0)) | \(cell(v.1)) | \(cell(v.2)) |") }
            case .html:
                let label = revision ?? "the working tree"
                print(DiffRender.page("mlv metrics at \(label)", "<h1>Metrics at <code>\(DiffRender.esc(label))</code></h1>" +
                                      DiffRender.table(["file", "metric", "value"], values.map { [$0.0, $0.1, $0.2] })), terminator: "")
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
        @OptionGroup var fetching: FetchOptions
        @Argument(help: "Up to two revisions.") var revisions: [String] = []

        func validate() throws { if revisions.count > 2 { throw ValidationError("at most two revisions") } }

        func run() throws { try diffOnly(.metrics, repo: repo, gate: gate, fetching: fetching, revisions: revisions) }
    }
}

/// `mlv metrics diff` and `mlv params diff`: `mlv diff` restricted to one kind.
func diffOnly(_ kind: TargetKind, repo: RepoOptions, gate: DiffGateOptions, fetching: FetchOptions, revisions: [String]) throws {
    let o = DiffOptions(from: revisions.first, to: revisions.count > 1 ? revisions[1] : nil, onlyKinds: [kind])
    let ws = try repo.open()
    try gate.finish(try ws.diff(o) { try fetching.fetch(ws, needed: $0, paths: []) })
}

struct Params: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Compare params.", subcommands: [DiffParams.self])

    struct DiffParams: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "diff", abstract: "Compare params between revisions (same gates as mlv diff).",
            discussion: """
            Params files are those tracked with `mlv track --kind params` and every FILE a \
            stage reads with --params FILE:KEY; every key in them is compared.

            Example:
              mlv params diff HEAD~1 HEAD
            """)
        @OptionGroup var repo: RepoOptions
        @OptionGroup var gate: DiffGateOptions
        @OptionGroup var fetching: FetchOptions
        @Argument(help: "Up to two revisions.") var revisions: [String] = []

        func validate() throws { if revisions.count > 2 { throw ValidationError("at most two revisions") } }

        func run() throws { try diffOnly(.params, repo: repo, gate: gate, fetching: fetching, revisions: revisions) }
    }
}

struct DiffDriver: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff-driver",
        abstract: "Summarize a pointer file's data for `git diff` (a textconv driver).",
        discussion: """
        `mlv init` registers it, so plain `git diff` and `git log -p` show what changed in the \
        data (columns, counts, statistics, files) instead of two snapshot ids:
          git config diff.mlv.textconv "mlv diff-driver"   # in .git/config
          *.mlv diff=mlv                                    # in .gitattributes
        """)

    @OptionGroup var repo: RepoOptions
    @OptionGroup var fetching: FetchOptions
    @Argument(help: "A pointer file (git passes a temporary copy).") var file: String

    func run() throws {
        let bytes = try FSRead.all(file)
        print(try repo.open().summarize(pointerBytes: bytes, name: file, offline: fetching.offline), terminator: "")
    }
}
