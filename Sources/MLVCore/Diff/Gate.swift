// `--fail-on` conditions (`Gate`): parsing, their value in a diff report, and the result.
import Foundation

/// A `--fail-on` condition: `TERM OP NUMBER`, where TERM is
///   name         a metric's or param's change, new − old (`roc_auc.test`); FILE:name for
///                one file's when several files have that key (train.json and test.json)
///   rel(name)    its relative change, (new − old) / |old|
///   old(name)    its old value;  new(name): its new value
///   drift(path)  the largest column drift (PSI) of a dataset, or of the CSV files in a folder
/// and OP is one of < <= > >= == !=.  Example: `roc_auc.test < -0.01`.
public struct Gate: Sendable, Equatable {
    public enum Term: Sendable, Equatable { case delta(String), relative(String), old(String), new(String), drift(String) }
    public enum Op: String, Sendable, CaseIterable { case le = "<=", ge = ">=", eq = "==", ne = "!=", lt = "<", gt = ">" }

    public var text: String
    public var term: Term
    public var op: Op
    public var bound: Double

    public init(parsing text: String) throws {
        self.text = text
        let s = text.trimmed
        guard let op = Op.allCases.lazy.compactMap({ o in s.range(of: o.rawValue).map { (o, $0) } }).first else {
            throw DiffError.badExpression(text, why: "no comparison (one of < <= > >= == !=)")
        }
        self.op = op.0
        let lhs = String(s[..<op.1.lowerBound]).trimmed
        let rhs = String(s[op.1.upperBound...]).trimmed
        guard let bound = Double(rhs) else { throw DiffError.badExpression(text, why: "\(rhs.debugDescription) is not a number") }
        self.bound = bound
        func arg(_ f: String) -> String? {
            guard lhs.hasPrefix(f + "("), lhs.hasSuffix(")") else { return nil }
            let a = String(lhs.dropFirst(f.count + 1).dropLast()).trimmed
            return a.isEmpty ? nil : a
        }
        if let a = arg("rel") { term = .relative(a) }
        else if let a = arg("old") { term = .old(a) }
        else if let a = arg("new") { term = .new(a) }
        else if let a = arg("drift") { term = .drift(a) }
        else if !lhs.isEmpty && !lhs.contains("(") && !lhs.contains(" ") { term = .delta(lhs) }
        else { throw DiffError.badExpression(text, why: "\(lhs.debugDescription) is not a metric name, rel(name), old(name), new(name) or drift(path)") }
    }

    /// The term's value in a report; nil when it has none (e.g. a metric added, so no change).
    /// old() and new() are the metric as its file wrote it; the others are computed doubles.
    public func value(in r: DiffReport) throws -> ExactNumber? {
        func metric(_ k: String) throws -> MetricChange {
            let all = r.metrics + r.params
            var found = all.filter { $0.key == k }
            if found.isEmpty, let i = k.lastIndex(of: ":") {
                let file = String(k[..<i]), key = String(k[k.index(after: i)...])
                found = all.filter { $0.file == file && $0.key == key }
            }
            guard let m = found.first else {
                let known = all.map(\.key)
                throw DiffError.badExpression(text, why: "no metric or param \(k.debugDescription)" + (known.isEmpty ? " (none compared)" : "; known: \(known.prefix(8).joined(separator: ", "))"))
            }
            // Two files with the key (train.json and test.json both have `acc`): taking the
            // first would gate on a figure the user may not mean.
            let files = found.map(\.file).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            if files.count > 1 {
                throw DiffError.badExpression(text, why: "\(k.debugDescription) is in \(files.joined(separator: " and ")); name one as FILE:\(k) (e.g. \(files[0]):\(k))")
            }
            return m
        }
        switch term {
        case .delta(let k): return try metric(k).delta.map { ExactNumber($0) }
        case .relative(let k): return try metric(k).relative.map { ExactNumber($0) }
        case .old(let k): return try metric(k).old?.exactNumber
        case .new(let k): return try metric(k).new?.exactNumber
        case .drift(let p):
            let path = p.hasPrefix("./") ? String(p.dropFirst(2)) : p
            // A typo must not pass as "no drift": the path has to be (inside) a tracked target.
            guard r.tracked?.contains(where: { RepoPath.isWithin(path, $0) || RepoPath.isWithin($0, path) }) ?? true else {
                throw DiffError.badExpression(text, why: "\(path) is not tracked at \(r.from) or in \(r.to); drift() takes a dataset (or a folder of them) mlv tracks")
            }
            // A table that could not be compared has no drift: the gate cannot pass on it.
            for t in r.targets {
                for u in t.uncomparedTables where RepoPath.isWithin(u, path) || RepoPath.isWithin(path, u) {
                    throw DiffError.gateUnknown(text, why: "\(u) was not compared as a table (see the warning), so its drift is unknown")
                }
            }
            var best: Double? = nil
            for t in r.targets {
                if t.path == path, let d = t.table?.maxDrift { best = max(best ?? d, d) }
                for (f, tab) in t.tables where f == path || t.path == path { if let d = tab.maxDrift { best = max(best ?? d, d) } }
            }
            return best.map { ExactNumber($0) }
        }
    }

    public func holds(_ v: Double) -> Bool {
        switch op {
        case .lt: return v < bound
        case .le: return v <= bound
        case .gt: return v > bound
        case .ge: return v >= bound
        case .eq: return v == bound
        case .ne: return v != bound
        }
    }
}

public struct GateResult: Codable, Sendable {
    public var expression: String
    public var value: ExactNumber?
    public var fired: Bool

    public init(expression: String, value: ExactNumber?, fired: Bool) {
        self.expression = expression
        self.value = value
        self.fired = fired
    }
}
