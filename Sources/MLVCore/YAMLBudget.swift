// libyaml, which Yams is built on (SwiftPM hands every client of Yams its module map). Its
// event stream is the only place where an alias is still one event: Yams' composer turns it
// into a shared copy of the anchored node, and hashes mapping keys whole (so an alias bomb
// used as a key hangs inside Yams.compose itself, before any walk of ours could count).
import CYaml
import Foundation
import Yams

/// Every YAML file mlv reads from a repository (mlv.yaml, feature definitions, metrics and
/// params files) is checked here before Yams composes it: YAML aliases (`*a` repeating an
/// `&a` node) let a few hundred bytes stand for billions of nodes (the "billion laughs"), and
/// everything downstream walks the expanded tree.
enum YAMLBudget {
    /// Nodes a YAML file may expand to beyond one per byte of its text, counting every alias as
    /// the whole node it repeats. Without aliases a file has at most about one node per byte,
    /// so only alias expansion can use this allowance: what mlv does with a file stays
    /// proportional to its size plus this (a metrics file of 1,000,000 values takes 6 s to
    /// show, so the 405-byte "billion laughs" could otherwise still cost seconds).
    static let aliasAllowance = 100_000

    /// The node limit for `text`: its bytes plus `aliasAllowance`.
    static func nodeLimit(_ text: String) -> Int { text.utf8.count + aliasAllowance }

    /// What decoding a file through Yams' Codable decoder (mlv.yaml, feature definitions) may
    /// cost, as the sum over its mappings (aliases expanded, `<<` merges included) of entries².
    /// That decoder finds each key by a linear scan of the mapping, so a mapping read as a
    /// dictionary (targets, stages, remotes, tags) costs entries² comparisons: 20,000 targets
    /// took 23 s (release build). 4,000,000 is one mapping of 2,000 entries (about 0.25 s), or
    /// 1,000 stages of 7 fields with room to spare.
    static let maxDecodeCost = 4_000_000

    /// What one pass over `text`'s events found, or nil past a limit.
    struct Count: Equatable {
        var nodes: Int
        var decodeCost: Int
        /// The first plain scalar Yams' Int conversion would trap on, and its line (1-based).
        var overflowingInt: String? = nil
        var overflowingIntLine = 0
    }

    /// Counts `text` (every document of the stream) with aliases expanded: nil once the nodes
    /// pass `limit` (default: `nodeLimit(text)`) or the decode cost `maxCost`. Text libyaml cannot parse is counted up to
    /// the error and left for Yams to report.
    static func count(_ text: String, limit: Int? = nil, maxCost: Int = .max) -> Count? {
        let limit = limit ?? nodeLimit(text)
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return Count(nodes: 0, decodeCost: 0) }
        defer { yaml_parser_delete(&parser) }
        let utf8 = Array(text.utf8)
        if utf8.isEmpty { return Count(nodes: 0, decodeCost: 0) }
        return utf8.withUnsafeBufferPointer { buf -> Count? in
            // As Yams reads a String: UTF-8, never guessed from the first bytes.
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, buf.baseAddress, buf.count)
            // Running totals; what a node adds to them is the total after its end minus the
            // total before its start, which is also what an alias to it adds.
            var total = 0, cost = 0
            struct Anchored { var nodes = 1, cost = 0, mergeEntries = 0 }
            var anchors: [String: Anchored] = [:]
            struct Frame {
                var start: Int, costStart: Int, anchor: String?, mapping: Bool
                var children = 0
                var merged = 0               // mapping: entries a `<<` brings in
                var mergeNext = false        // mapping: the next value is a `<<` value
                var itemEntries = 0          // sequence: entries of its mapping items (what it merges)
                var mergeInto: Int? = nil    // this node is the `<<` value of that frame
                var entries: Int { (children + 1) / 2 + merged }
            }
            var open: [Frame] = []
            var firstTrap: (String, Int)? = nil
            func result() -> Count {
                Count(nodes: total, decodeCost: cost, overflowingInt: firstTrap?.0, overflowingIntLine: firstTrap?.1 ?? 0)
            }
            func name(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? { p.map { String(cString: $0) } }
            func scalarIs(_ e: yaml_event_t, _ text: String) -> Bool {
                let v = e.data.scalar
                guard v.length == text.utf8.count, let p = v.value else { return false }
                return text.utf8.elementsEqual(UnsafeBufferPointer(start: p, count: v.length))
            }
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return result() }
                defer { yaml_event_delete(&event) }
                let t = event.type
                // Every event but an end is a node inside the innermost open collection.
                var mergeTarget: Int? = nil
                let isNode = t == YAML_SCALAR_EVENT || t == YAML_ALIAS_EVENT || t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT
                let parent = open.indices.last
                var isKey = false
                if isNode, let p = parent {
                    open[p].children += 1
                    if open[p].mapping {
                        isKey = open[p].children % 2 == 1
                        if !isKey && open[p].mergeNext { mergeTarget = p; open[p].mergeNext = false }
                    }
                }
                switch t {
                case YAML_STREAM_END_EVENT:
                    return result()
                case YAML_SCALAR_EVENT:
                    total += 1
                    if let a = name(event.data.scalar.anchor) { anchors[a] = Anchored() }
                    if firstTrap == nil, event.data.scalar.style == YAML_PLAIN_SCALAR_STYLE, let v = event.data.scalar.value {
                        let text = String(decoding: UnsafeBufferPointer(start: v, count: event.data.scalar.length), as: UTF8.self)
                        if yamsIntConversionTraps(text) { firstTrap = (text, Int(event.start_mark.line) + 1) }
                    }
                    // A merge key: `<<` plain, or any scalar tagged !!merge (as Yams resolves it).
                    if isKey, let p = parent, (event.data.scalar.style == YAML_PLAIN_SCALAR_STYLE && scalarIs(event, "<<"))
                        || name(event.data.scalar.tag) == "tag:yaml.org,2002:merge" {
                        open[p].mergeNext = true
                    }
                case YAML_ALIAS_EVENT:
                    // An undefined alias is Yams' error to report; count it as one node.
                    let a = name(event.data.alias.anchor).flatMap { anchors[$0] } ?? Anchored()
                    total += a.nodes
                    cost += a.cost
                    if let m = mergeTarget { open[m].merged += a.mergeEntries }
                    if let p = parent, !open[p].mapping { open[p].itemEntries += a.mergeEntries }
                case YAML_SEQUENCE_START_EVENT:
                    open.append(Frame(start: total, costStart: cost, anchor: name(event.data.sequence_start.anchor), mapping: false, mergeInto: mergeTarget))
                    total += 1
                case YAML_MAPPING_START_EVENT:
                    open.append(Frame(start: total, costStart: cost, anchor: name(event.data.mapping_start.anchor), mapping: true, mergeInto: mergeTarget))
                    total += 1
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    guard let f = open.popLast() else { break }
                    // What this node can bring into a mapping it is merged into.
                    let entries = f.mapping ? f.entries : f.itemEntries
                    if f.mapping {
                        let (sq, o1) = entries.multipliedReportingOverflow(by: entries)
                        let (c, o2) = cost.addingReportingOverflow(sq)
                        if o1 || o2 { return nil }
                        cost = c
                        if let p = open.indices.last, !open[p].mapping { open[p].itemEntries += entries }
                    }
                    if let m = f.mergeInto { open[m].merged += entries }
                    if let a = f.anchor { anchors[a] = Anchored(nodes: total - f.start, cost: cost - f.costStart, mergeEntries: entries) }
                default:
                    break
                }
                if total > limit || cost > maxCost { return nil }
                // A mapping's own cost is only added at its end: stop a wide one as it grows.
                if let p = open.indices.last, open[p].mapping {
                    let e = open[p].entries
                    if e > 0 && e > maxCost / e { return nil }        // e² > maxCost, without overflow
                }
            }
        }
    }

    /// The expanded node count of `text`, or nil past `limit`.
    static func expandedNodes(_ text: String, limit: Int? = nil) -> Int? { count(text, limit: limit)?.nodes }

    /// Throws `error(why)` when `text` expands past `nodeLimit(text)` nodes, or (`decoded`: a
    /// file read through Yams' Codable decoder) its mappings cost more than `maxDecodeCost` or
    /// it has a value Yams would trap on when decoding it as an integer.
    static func check(_ text: String, decoded: Bool = false, _ error: (_ why: String) -> any Error) throws {
        let maxCost = decoded ? maxDecodeCost : .max
        let c = count(text, maxCost: maxCost)
        if decoded, let c, let v = c.overflowingInt {
            throw error("line \(c.overflowingIntLine): \(v.prefix(40).debugDescription) is a base-60 integer too large for mlv to read; quote it if it is text")
        }
        if c == nil {
            // Tell which limit it was: the count alone is cheap to redo.
            if decoded && count(text) != nil {
                throw error("its mappings are too large for mlv to read (entries² summed over every mapping, aliases and << merges expanded, pass \(maxCost.formatted): about one mapping of 2,000 entries)")
            }
            throw error("expands to more than \(nodeLimit(text).formatted) YAML nodes through &anchor/*alias repeats (mlv reads at most \(aliasAllowance.formatted) more nodes than the file has bytes); write the values out")
        }
    }
}

/// Whether Yams' Int conversion of the plain scalar `text` traps. It reads `a:b:c` (YAML 1.1
/// base 60) with unchecked arithmetic, so one that overflows, or has 11 or more parts (the
/// base reaches 60^11), crashes the process; Codable decoding of an Int field (`version`,
/// `compression_level`, `seed`) calls it on any plain scalar. Mirrors
/// `FixedWidthInteger.private_construct` and `String.sexagesimal()` of Yams 6.
func yamsIntConversionTraps(_ text: String) -> Bool {
    guard text.contains(":") else { return false }
    var s = Substring(text.replacing("_", with: ""))
    if s.hasPrefix("-") || s.hasPrefix("+") { s = s.dropFirst() }
    if s.hasPrefix("0") { return false }            // 0x, 0b, 0o, 0: Int(_:radix:), which is safe
    var digits: [Int] = []
    for part in s.split(separator: ":", omittingEmptySubsequences: false) {
        guard let d = Int(part, radix: 10) else { return false }   // then Yams returns nil
        digits.append(d)
    }
    var base = 1, value = 0
    for d in digits.reversed() {
        let (m, o1) = d.multipliedReportingOverflow(by: base)
        let (v, o2) = value.addingReportingOverflow(m)
        let (b, o3) = base.multipliedReportingOverflow(by: 60)
        if o1 || o2 || o3 { return true }
        value = v
        base = b
    }
    return value == .min                            // then sign * value overflows
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
