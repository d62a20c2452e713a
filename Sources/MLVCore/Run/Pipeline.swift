// Run — reproducible training: stages declared in mlv.yaml, run in a controlled environment
// on exactly the inputs pinned by the pointers, with a record of every run that git versions.
import MLVSystem
import MLVStore

/// One step of the pipeline, as written in mlv.yaml:
///
///     stages:
///       train:
///         cmd: [python3, train.py, --out-dir, models]
///         deps: [data/penguins.csv, train.py]          tracked targets and code files it reads
///         params: [params.yaml:train.learning_rate]    FILE:KEY values it depends on (a
///                                                      section: every key below it)
///         outs: [models/model.json]                    what it writes (become tracked targets)
///         metrics: [metrics.json]                      metrics it writes (kept in git)
///         env: [CUDA_VISIBLE_DEVICES]                  variables passed through
///         seed: 42                                     exported as MLV_SEED
public struct Stage: Codable, Equatable, Sendable {
    public var cmd: [String]
    public var deps: [String] = []
    public var params: [String] = []
    public var outs: [String] = []
    public var metrics: [String] = []
    public var env: [String] = []
    public var seed: Int?

    public init(cmd: [String], deps: [String] = [], params: [String] = [], outs: [String] = [], metrics: [String] = [],
                env: [String] = [], seed: Int? = nil) {
        self.cmd = cmd
        self.deps = deps
        self.params = params
        self.outs = outs
        self.metrics = metrics
        self.env = env
        self.seed = seed
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case cmd, deps, params, outs, metrics, env, seed }

    /// A stage's entry in mlv.yaml (see `Config.shape`).
    static var shape: YAMLShape {
        .record(of: CodingKeys.self) { key in
            switch key {
            case .cmd: return .list(.string, example: "[python3, train.py], or [sh, -c, \"...\"] for a shell line")
            case .deps, .params, .outs, .metrics, .env: return .list(.string)
            case .seed: return .int
            }
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cmd = try c.decode([String].self, forKey: .cmd)
        deps = try c.decodeIfPresent([String].self, forKey: .deps) ?? []
        params = try c.decodeIfPresent([String].self, forKey: .params) ?? []
        outs = try c.decodeIfPresent([String].self, forKey: .outs) ?? []
        metrics = try c.decodeIfPresent([String].self, forKey: .metrics) ?? []
        env = try c.decodeIfPresent([String].self, forKey: .env) ?? []
        seed = try c.decodeIfPresent(Int.self, forKey: .seed)
    }

    /// A canonical text of the definition, hashed into run records: any change re-runs.
    var canonical: String {
        func list(_ name: String, _ xs: [String]) -> String { name + "=" + xs.joined(separator: "\u{1F}") }
        let parts: [String] = [
            list("cmd", cmd), list("deps", deps.sorted()), list("params", params.sorted()),
            list("outs", outs.sorted()), list("metrics", metrics.sorted()), list("env", env.sorted()),
            "seed=" + (seed.map { String($0) } ?? ""),
        ]
        return parts.joined(separator: "\n")
    }
}

public enum PipelineError: Error, CustomStringConvertible, Equatable {
    case unknownStage(String, known: [String])
    case cycle([String])
    case sharedOutput(String, stages: [String])
    case badParam(stage: String, spec: String)
    case badStage(String, why: String)
    case missingDep(stage: String, path: String)
    /// A declared FILE:KEY whose file has no KEY (`nearest`: the closest key it has).
    case missingParam(stage: String, file: String, key: String, nearest: String?)
    case commandNotFound(stage: String, command: String)

    public var description: String {
        switch self {
        case .unknownStage(let s, let known):
            if known.isEmpty { return "no stage \(s.debugDescription); add one with `mlv stage add NAME -- CMD`" }
            return "no stage \(s.debugDescription)" + (Suggest.nearest(s, among: known).map { "; did you mean '\($0)'?" } ?? "") + " (stages are \(known.joined(separator: ", ")))"
        case .cycle(let path):
            return "the pipeline has a cycle: \(path.joined(separator: " → ")); a stage cannot depend on its own outputs"
        case .sharedOutput(let out, let stages):
            return "\(out) is an output of both \(stages.joined(separator: " and ")); each output must come from one stage"
        case .badParam(let stage, let spec):
            return "stage \(stage): params entry \(spec.debugDescription) must be FILE:KEY (e.g. params.yaml:train.lr)"
        case .badStage(let stage, let why):
            return "stage \(stage): \(why)"
        case .missingDep(let stage, let path):
            return "stage \(stage): dependency \(path) does not exist and no stage produces it"
        case .missingParam(let stage, let file, let key, let nearest):
            return "stage \(stage): \(file) has no key '\(key)'" + (nearest.map { "; did you mean '\($0)'?" } ?? "") +
                " (add the key to \(file), or correct the stage's params: `mlv stage add \(stage) --force --params \(file):KEY ...`)"
        case .commandNotFound(let stage, let command):
            return "stage \(stage): \(command) is not installed (not found on PATH)"
        }
    }
}

/// The stages as a graph: a stage depends on the stages whose outputs it reads.
public struct Pipeline: Sendable {
    public let stages: [String: Stage]

    /// Validates the whole pipeline: commands, paths inside the repository, one producer per
    /// output, FILE:KEY params, no cycles.
    public init(_ stages: [String: Stage], root: String) throws {
        self.stages = stages
        var producer: [String: String] = [:]
        for (name, s) in stages.sorted(by: { $0.key < $1.key }) {
            if s.cmd.isEmpty || s.cmd[0].isEmpty { throw PipelineError.badStage(name, why: "cmd is empty") }
            for p in s.deps + s.outs + s.metrics {
                do { try RepoPath.validate(p, source: p) } catch {
                    throw PipelineError.badStage(name, why: "\(p) is not a path inside the repository (\(error))")
                }
            }
            for p in s.params where paramSpec(p) == nil { throw PipelineError.badParam(stage: name, spec: p) }
            // A stage that reads its own output is the shortest cycle.
            if s.deps.contains(where: { d in (s.outs + s.metrics).contains { RepoPath.isWithin(d, $0) || RepoPath.isWithin($0, d) } }) {
                throw PipelineError.cycle([name, name])
            }
            for o in s.outs + s.metrics {
                if let other = producer[o] { throw PipelineError.sharedOutput(o, stages: [other, name].sorted()) }
                producer[o] = name
            }
        }
        _ = try order(Set(stages.keys))
    }

    /// Stages `name` reads outputs of.
    public func upstream(_ name: String) -> [String] {
        guard let s = stages[name] else { return [] }
        return stages.filter { other, t in
            other != name && s.deps.contains { d in (t.outs + t.metrics).contains { RepoPath.isWithin(d, $0) || RepoPath.isWithin($0, d) } }
        }.keys.sorted()
    }

    /// `wanted` and everything upstream of them, dependencies first (ties by name).
    public func order(_ wanted: Set<String>) throws -> [String] {
        var out: [String] = []
        var state: [String: Int] = [:]   // 1 visiting, 2 done
        func visit(_ n: String, _ path: [String]) throws {
            if state[n] == 2 { return }
            if state[n] == 1 { throw PipelineError.cycle(Array(path.drop { $0 != n }) + [n]) }
            state[n] = 1
            for u in upstream(n) { try visit(u, path + [n]) }
            state[n] = 2
            out.append(n)
        }
        for n in wanted.sorted() {
            guard stages[n] != nil else { throw PipelineError.unknownStage(n, known: stages.keys.sorted()) }
            try visit(n, [])
        }
        return out
    }
}

/// "params.yaml:train.lr" → ("params.yaml", "train.lr").
func paramSpec(_ s: String) -> (file: String, key: String)? {
    guard let i = s.lastIndex(of: ":") else { return nil }
    let f = String(s[..<i]), k = String(s[s.index(after: i)...])
    return f.isEmpty || k.isEmpty ? nil : (f, k)
}

extension PipelineError: CategorizedError {
    public var category: ErrorCategory { .input }
}
