import Yams

/// The shape a value in one of mlv's YAML files must have. Checked on the composed node tree,
/// where every node still has its line and column, before Yams' Codable decoder reads it: the
/// decoder ignores keys it does not know (a `stage:` typo for `stages:` would silently mean
/// "no stages") and reports a wrong type without a position.
indirect enum YAMLShape: Sendable {
    case int
    /// Any scalar (Yams reads a number or a flag as its text too).
    case string
    /// A list of `item`; `example` shows the right form when a single value is given.
    case list(YAMLShape, example: String? = nil)
    /// A mapping with a fixed set of keys: any other key is a typo.
    case record([String: YAMLShape])
    /// A mapping whose keys the user chooses (stage names, paths), each value a `value`.
    case map(YAMLShape)

    /// A record of exactly the keys `K` lists (the decoder's own CodingKeys: one owner of
    /// the key names), each with the shape `shape` gives it.
    static func record<K: CodingKey & CaseIterable>(of _: K.Type, _ shape: (K) -> YAMLShape) -> YAMLShape {
        .record(Dictionary(uniqueKeysWithValues: K.allCases.map { ($0.stringValue, shape($0)) }))
    }
}

/// A value that does not have its shape, at `line` (1-based) of the file. Never leaves this
/// file: `YAMLSchema.decode` turns it into the caller's error.
private struct YAMLShapeError: Error {
    var line: Int
    var why: String
}

enum YAMLSchema {
    /// Composes `text` (checked by `YAMLBudget` first), checks it against `shape` and decodes a
    /// `T` from the node tree. Errors come as `fail(line, column, why)`: invalid YAML at the
    /// parser's position, an unknown key or a wrong type at the node's, and what the decoder
    /// still refuses (a missing key, say) at the nearest node its coding path reaches.
    static func decode<T: Decodable>(_ type: T.Type, from text: String, shape: YAMLShape,
                                     fail: (_ line: Int?, _ column: Int?, _ why: String) -> any Error) throws -> T {
        try YAMLBudget.check(text, decoded: true) { fail(nil, nil, $0) }
        let root: Node
        do {
            root = try Yams.compose(yaml: text) ?? Node.mapping([:])
        } catch let e as YamlError {
            let (mark, why) = describe(e)
            throw fail(mark?.line, mark?.column, why)
        }
        do {
            try check(root, shape, path: [])
        } catch let e as YAMLShapeError {
            throw fail(e.line, nil, e.why)
        }
        do {
            return try YAMLDecoder().decode(T.self, from: root)
        } catch let e as DecodingError {
            let (path, why) = describe(e)
            let mark = node(at: path, in: root)?.mark ?? root.mark
            let name = path.map(\.stringValue).joined(separator: ".")
            throw fail(mark?.line, nil, name.isEmpty ? why : "\(name): \(why)")
        } catch let e as YamlError {
            let (mark, why) = describe(e)
            throw fail(mark?.line, mark?.column, why)
        }
    }

    /// Checks `node` (at `path`, dotted, for messages) against `shape`; `optional`: the value
    /// of a record's key, which may be empty (`metrics:`), as the decoder reads it as absent.
    static func check(_ node: Node, _ shape: YAMLShape, path: [String], optional: Bool = false) throws {
        let name = path.joined(separator: ".")
        func wrong(_ expected: String, example: String? = nil) -> YAMLShapeError {
            let found: String
            switch node {
            case .scalar(let s):
                let text = String(s.string.prefix(40)).debugDescription
                found = node.null != nil ? "nothing" : s.style == .plain ? "the single value \(text)" : "the quoted text \(text)"
            case .mapping: found = "a mapping"
            case .sequence: found = "a list"
            case .alias: found = "an alias"
            }
            let what = name.isEmpty ? "the file" : name
            return YAMLShapeError(line: node.mark?.line ?? 0,
                                  why: "\(what) must be \(expected)\(example.map { ", like \($0)" } ?? ""); found \(found)")
        }
        if optional, case .scalar = node, node.null != nil { return }
        if case .alias = node { return }    // expanded by Yams; its anchor is checked where it stands
        switch shape {
        case .int:
            guard case .scalar = node, node.int != nil else { throw wrong("a whole number") }
        case .string:
            guard case .scalar = node else { throw wrong("a single value") }
        case .list(let item, let example):
            guard case .sequence(let seq) = node else { throw wrong("a list", example: example ?? listExample(node)) }
            for (i, x) in seq.enumerated() { try check(x, item, path: path + ["\(i)"]) }
        case .record(let fields):
            guard case .mapping(let m) = node else { throw wrong("a mapping of \(fields.keys.sorted().joined(separator: ", "))") }
            for (k, v) in m {
                guard case .scalar(let key) = k else {
                    throw YAMLShapeError(line: k.mark?.line ?? 0, why: "a key\(name.isEmpty ? "" : " in \(name)") is a list or mapping")
                }
                if isMerge(k) {
                    // `<<: *defaults` brings in the keys of other mappings: they obey the same shape.
                    if case .sequence(let items) = v { for x in items { try check(x, shape, path: path) } } else { try check(v, shape, path: path) }
                    continue
                }
                guard let sub = fields[key.string] else {
                    let known = fields.keys.sorted()
                    var why = "unknown key '\(key.string)'\(name.isEmpty ? "" : " in \(name)")"
                    if let near = Suggest.nearest(key.string, among: known) { why += "; did you mean '\(near)'?" } else { why += " (known keys: \(known.joined(separator: ", ")))" }
                    throw YAMLShapeError(line: k.mark?.line ?? 0, why: why)
                }
                try check(v, sub, path: path + [key.string], optional: true)
            }
        case .map(let value):
            guard case .mapping(let m) = node else { throw wrong("a mapping of names to settings") }
            for (k, v) in m {
                guard case .scalar(let key) = k else {
                    throw YAMLShapeError(line: k.mark?.line ?? 0, why: "a key\(name.isEmpty ? "" : " in \(name)") is a list or mapping")
                }
                if isMerge(k) { continue }
                try check(v, value, path: path + [key.string])
            }
        }
    }

    /// `x` → `[x]`: the right form of a single value given where a list belongs.
    private static func listExample(_ node: Node) -> String? {
        guard case .scalar(let s) = node, !s.string.contains(" ") else { return nil }
        return "[\(s.string)]"
    }

    /// A merge key: `<<` plain, or tagged !!merge (as Yams resolves it).
    private static func isMerge(_ k: Node) -> Bool {
        guard case .scalar(let s) = k else { return false }
        return (s.string == "<<" && s.style == .plain) || k.tag.rawValue == "tag:yaml.org,2002:merge"
    }

    /// The node a decoder's coding path leads to (or the deepest one on the way).
    private static func node(at path: [any CodingKey], in root: Node) -> Node? {
        var n = root
        for key in path {
            switch n {
            case .mapping(let m):
                guard let next = m.first(where: { $0.key.string == key.stringValue })?.value else { return n }
                n = next
            case .sequence(let s):
                guard let i = key.intValue, s.indices.contains(i) else { return n }
                n = s[i]
            default:
                return n
            }
        }
        return n
    }

    private static func describe(_ e: DecodingError) -> ([any CodingKey], String) {
        switch e {
        case .keyNotFound(let k, let c): return (c.codingPath, "missing key '\(k.stringValue)'")
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): return (c.codingPath, c.debugDescription)
        @unknown default: return ([], "\(e)")
        }
    }

    /// Where libyaml found the problem, and the problem in one line.
    static func describe(_ e: YamlError) -> (Mark?, String) {
        func text(_ context: YamlError.Context?, _ problem: String) -> String {
            // "did not find expected ',' or ']' (in the flow sequence at line 2, column 7)"
            guard let c = context else { return "not valid YAML: \(problem)" }
            return "not valid YAML: \(problem) (\(c.text) at line \(c.mark.line), column \(c.mark.column))"
        }
        switch e {
        case .scanner(let c, let p, let mark, _), .parser(let c, let p, let mark, _), .composer(let c, let p, let mark, _):
            return (mark, text(c, p))
        case .reader(let problem, _, _, _):
            return (nil, "not valid YAML: \(problem)")
        case .duplicatedKeysInMapping(let keys, let c):
            return (c.mark, "duplicate key \(keys.map { "'\($0)'" }.joined(separator: ", "))")
        default:
            return (nil, "not valid YAML: \(String(describing: e).split(separator: "\n").first ?? "")")
        }
    }
}
