// `mlv diff`: what changed in data, models, metrics and params between commits.
import ArgumentParser
import MLVCore

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
        try gate.finish(try DiffEngine(ws).run(o) { try fetching.fetch(ws, needed: $0, paths: paths) })
    }
}
