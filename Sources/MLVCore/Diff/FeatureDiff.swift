// Feature definitions (`FeatureSet`, mlv-features(5)) and how two versions differ
// (`FeatureChange`, `FeaturesDiff`, `diffFeatures`).
import Yams

/// mlv's declarative feature definitions (documented in mlv-features(5)):
///
///     version: 1
///     entities:
///       - {name: user, keys: [user_id], description: ...}
///     feature_views:
///       - name: user_activity
///         source: data/events.csv        the dataset it is computed from
///         entity: user
///         ttl: 7d
///         owner: team@example.com
///         tags: {domain: growth}
///         features:
///           - {name: clicks_7d, dtype: int64, expression: "count(click) over 7d", description: ...}
public struct FeatureSet: Codable, Equatable, Sendable {
    public struct Entity: Codable, Equatable, Sendable {
        public var name: String
        public var keys: [String]
        public var description: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case name, keys, description }
    }
    public struct Feature: Codable, Equatable, Sendable {
        public var name: String
        public var dtype: String
        public var expression: String?
        public var description: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case name, dtype, expression, description }
    }
    public struct View: Codable, Equatable, Sendable {
        public var name: String
        public var source: String?
        public var entity: String?
        public var ttl: String?
        public var owner: String?
        public var tags: [String: String]?
        public var features: [Feature]
        enum CodingKeys: String, CodingKey, CaseIterable { case name, source, entity, ttl, owner, tags, features }
    }
    public var version: Int?
    public var entities: [Entity]?
    public var featureViews: [View]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case version, entities
        case featureViews = "feature_views"
    }

    /// What a feature-definition file may hold (mlv-features(5)): the keys the decoder reads,
    /// so that a typo (`descripton:`) is reported with its line instead of dropped.
    static var shape: YAMLShape {
        .record(of: CodingKeys.self) { key in
            switch key {
            case .version: return .int
            case .entities:
                return .list(.record(of: Entity.CodingKeys.self) { k in
                    switch k { case .name, .description: return .string; case .keys: return .list(.string) }
                })
            case .featureViews:
                return .list(.record(of: View.CodingKeys.self) { k in
                    switch k {
                    case .name, .source, .entity, .ttl, .owner: return .string
                    case .tags: return .map(.string)
                    case .features:
                        return .list(.record(of: Feature.CodingKeys.self) { f in
                            switch f { case .name, .dtype, .expression, .description: return .string }
                        })
                    }
                })
            }
        }
    }

    static func parse(_ bytes: [UInt8], path: String) throws -> FeatureSet {
        let text = String(decoding: bytes, as: UTF8.self)
        let f = try YAMLSchema.decode(FeatureSet.self, from: text, shape: shape) { line, _, why in
            DiffError.malformed(file: path, line: line ?? 0, why: why.hasPrefix("not valid YAML") ? why : "not valid feature definitions: \(why)")
        }
        if let v = f.version, v != 1 { throw DiffError.malformed(file: path, line: 0, why: "feature definitions version \(v) is not supported (1)") }
        return f
    }
}

/// One semantic change to feature definitions.
public struct FeatureChange: Codable, Sendable, Equatable {
    /// What kind of definition changed.
    public enum Scope: String, Sendable, Codable, CaseIterable { case entity, view, feature }

    public var scope: Scope
    public var name: String            // view/feature for features
    public var change: EntryChangeKind
    public var field: String?          // for modified: dtype, expression, source, ttl, entity, owner, tags, keys, description
    public var old: String?
    public var new: String?
}

public struct FeaturesDiff: Codable, Sendable {
    public var changes: [FeatureChange]
    /// Models whose declared inputs include this file or a source of a changed view.
    public var modelsToRetrain: [String]

    enum CodingKeys: String, CodingKey {
        case changes
        case modelsToRetrain = "models_to_retrain"
    }
}

func diffFeatures(_ a: FeatureSet, _ b: FeatureSet) -> [FeatureChange] {
    var out: [FeatureChange] = []
    func field(_ scope: FeatureChange.Scope, _ name: String, _ f: String, _ x: String?, _ y: String?) {
        if x != y { out.append(FeatureChange(scope: scope, name: name, change: .modified, field: f, old: x, new: y)) }
    }
    let ea = Dictionary((a.entities ?? []).map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
    let eb = Dictionary((b.entities ?? []).map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
    for n in Set(ea.keys).union(eb.keys).sorted() {
        switch (ea[n], eb[n]) {
        case (nil, _): out.append(FeatureChange(scope: .entity, name: n, change: .added))
        case (_, nil): out.append(FeatureChange(scope: .entity, name: n, change: .removed))
        case let (x?, y?):
            field(.entity, n, "keys", x.keys.joined(separator: ","), y.keys.joined(separator: ","))
            field(.entity, n, "description", x.description, y.description)
        }
    }
    let va = Dictionary((a.featureViews ?? []).map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
    let vb = Dictionary((b.featureViews ?? []).map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
    func tags(_ t: [String: String]?) -> String? { t.map { $0.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") } }
    for n in Set(va.keys).union(vb.keys).sorted() {
        guard let x = va[n] else { out.append(FeatureChange(scope: .view, name: n, change: .added)); continue }
        guard let y = vb[n] else { out.append(FeatureChange(scope: .view, name: n, change: .removed)); continue }
        field(.view, n, "source", x.source, y.source)
        field(.view, n, "entity", x.entity, y.entity)
        field(.view, n, "ttl", x.ttl, y.ttl)
        field(.view, n, "owner", x.owner, y.owner)
        field(.view, n, "tags", tags(x.tags), tags(y.tags))
        let fa = Dictionary(x.features.map { ($0.name, $0) }, uniquingKeysWith: { p, _ in p })
        let fb = Dictionary(y.features.map { ($0.name, $0) }, uniquingKeysWith: { p, _ in p })
        var removed = fa.keys.filter { fb[$0] == nil }.sorted()
        var added = fb.keys.filter { fa[$0] == nil }.sorted()
        // A feature that disappears while one with the same definition appears was renamed.
        for newName in added {
            if let oldName = removed.first(where: { fa[$0]!.expression == fb[newName]!.expression && fa[$0]!.dtype == fb[newName]!.dtype && fa[$0]!.expression != nil }) {
                out.append(FeatureChange(scope: .feature, name: "\(n)/\(newName)", change: .renamed, field: "name", old: oldName, new: newName))
                removed.removeAll { $0 == oldName }
                added.removeAll { $0 == newName }
            }
        }
        for f in added { out.append(FeatureChange(scope: .feature, name: "\(n)/\(f)", change: .added, field: nil, old: nil, new: fb[f]!.expression)) }
        for f in removed { out.append(FeatureChange(scope: .feature, name: "\(n)/\(f)", change: .removed, field: nil, old: fa[f]!.expression, new: nil)) }
        for f in Set(fa.keys).intersection(fb.keys).sorted() {
            let p = fa[f]!, q = fb[f]!
            field(.feature, "\(n)/\(f)", "dtype", p.dtype, q.dtype)
            field(.feature, "\(n)/\(f)", "expression", p.expression, q.expression)
            field(.feature, "\(n)/\(f)", "description", p.description, q.description)
        }
    }
    return out
}
