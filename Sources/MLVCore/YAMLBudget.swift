// libyaml, which Yams is built on (SwiftPM hands every client of Yams its module map). Its
// event stream is the only place where an alias is still one event: Yams' composer turns it
// into a shared copy of the anchored node, and hashes mapping keys whole (so an alias bomb
// used as a key hangs inside Yams.compose itself, before any walk of ours could count).
import CYaml
import Yams

/// Every YAML file mlv reads from a repository (mlv.yaml, feature definitions, metrics and
/// params files) is checked here before Yams composes it: YAML aliases (`*a` repeating an
/// `&a` node) let a few hundred bytes stand for billions of nodes (the "billion laughs"), and
/// everything downstream walks the expanded tree.
enum YAMLBudget {
    /// Nodes a YAML file may expand to, counting every alias as the whole node it repeats.
    /// A file without aliases has at most about one node per byte, so this is far above any
    /// hand-written config or metrics file (a 1,000,000-node metrics file is megabytes of
    /// text), while a walk of that many nodes stays well under a second.
    static let maxNodes = 1_000_000

    /// Entries of one mapping in a file decoded through Yams' Codable decoder (mlv.yaml,
    /// feature definitions). That decoder finds each key by a linear scan of the mapping, so a
    /// mapping read as a dictionary costs entries² comparisons: 20,000 entries took 47 s
    /// (debug build). 5,000 stays under a second, and is more stages, remotes, per-target
    /// settings or tags of one view than a hand-written file has.
    static let maxDecodedMappingEntries = 5_000

    /// The expanded node count of `text` (every document of the stream), or nil once it passes
    /// `limit` or a mapping has more than `maxEntries` entries. Text libyaml cannot parse is
    /// counted up to the error and left for Yams to report.
    static func expandedNodes(_ text: String, limit: Int = maxNodes, maxEntries: Int = .max) -> Int? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return 0 }
        defer { yaml_parser_delete(&parser) }
        let utf8 = Array(text.utf8)
        if utf8.isEmpty { return 0 }
        return utf8.withUnsafeBufferPointer { buf -> Int? in
            yaml_parser_set_input_string(&parser, buf.baseAddress, buf.count)
            // The count so far; a node's expanded size is the count after its end minus the
            // count before its start, which is what an alias to it adds.
            var total = 0
            var sizes: [String: Int] = [:]                  // anchor -> expanded size
            var open: [(start: Int, anchor: String?, mapping: Bool, children: Int)] = []  // collections being read
            func anchorName(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? {
                p.map { String(cString: $0) }
            }
            while true {
                // Every event but an end is a node inside the innermost open collection.
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return total }
                defer { yaml_event_delete(&event) }
                let t = event.type
                if t == YAML_SCALAR_EVENT || t == YAML_ALIAS_EVENT || t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT,
                   !open.isEmpty {
                    open[open.count - 1].children += 1
                    // A mapping's children are its keys and values.
                    if open[open.count - 1].mapping && (open[open.count - 1].children + 1) / 2 > maxEntries { return nil }
                }
                switch t {
                case YAML_STREAM_END_EVENT:
                    return total
                case YAML_SCALAR_EVENT:
                    total += 1
                    if let a = anchorName(event.data.scalar.anchor) { sizes[a] = 1 }
                case YAML_ALIAS_EVENT:
                    // An undefined alias is Yams' error to report; count it as one node.
                    total += anchorName(event.data.alias.anchor).flatMap { sizes[$0] } ?? 1
                case YAML_SEQUENCE_START_EVENT:
                    open.append((total, anchorName(event.data.sequence_start.anchor), false, 0))
                    total += 1
                case YAML_MAPPING_START_EVENT:
                    open.append((total, anchorName(event.data.mapping_start.anchor), true, 0))
                    total += 1
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    if let o = open.popLast(), let anchor = o.anchor { sizes[anchor] = total - o.start }
                default:
                    break
                }
                if total > limit { return nil }
            }
        }
    }

    /// Throws `error(why)` when `text` expands past `limit` nodes, or (`decoded`: a file read
    /// through Yams' Codable decoder) has a mapping of more than `maxDecodedMappingEntries`.
    static func check(_ text: String, limit: Int = maxNodes, decoded: Bool = false, _ error: (_ why: String) -> any Error) throws {
        let maxEntries = decoded ? maxDecodedMappingEntries : .max
        if expandedNodes(text, limit: limit, maxEntries: maxEntries) == nil {
            // Tell which limit it was: the count alone is cheap to redo without the width one.
            if decoded && expandedNodes(text, limit: limit) != nil {
                throw error("a mapping has more than \(maxEntries.formatted) entries, the most mlv reads in this file")
            }
            throw error("expands to more than \(limit.formatted) YAML nodes (through &anchor/*alias repeats); mlv reads at most \(limit.formatted), so write the values out or split the file")
        }
    }
}

private extension Int {
    /// 1000000 as 1,000,000.
    var formatted: String {
        let digits = Array(String(self))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(d)
        }
        return out
    }
}
