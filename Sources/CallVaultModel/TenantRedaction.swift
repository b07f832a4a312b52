public import CallVaultRedaction
import Foundation

/// What a tenant has CallVault redact from its calls' transcripts (`tenant add|set --redact
/// pci,bank,contact,ids|none`): the detector's categories. Stored as one text column.
///
/// Empty (`none`) by default, for new and existing tenants alike: redaction replaces words in the
/// stored transcript for good, so it is the tenant's decision, not something an upgrade does to
/// transcripts it already relies on.
public struct TenantRedaction: Sendable, Hashable, Codable {
    /// The categories redacted; empty: none.
    public var categories: Set<RedactionCategory>

    public init(categories: Set<RedactionCategory> = []) {
        self.categories = categories
    }

    public var isEmpty: Bool { categories.isEmpty }

    /// The policy names in a fixed order (`pci`, `bank`, `contact`, `ids`), as the CLI spells them.
    public var names: [String] { RedactionCategory.allCases.filter(categories.contains).map(\.policyName) }

    /// `pci,bank,contact,ids`, or `none`.
    public var listText: String { isEmpty ? "none" : names.joined(separator: ",") }

    /// Reads a `--redact` value: comma-separated policy names (`pci` or `payment`, `bank`, `contact`,
    /// `ids`), or `none`. An unknown name is refused, named in the error.
    public init(listText: String) throws(CatalogError) {
        let items = listText.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        if items == ["none"] {
            self.init()
            return
        }
        guard !items.isEmpty, !items.contains(where: \.isEmpty) else {
            throw CatalogError(
                .invalidPolicy,
                "the redaction list must name categories (pci, bank, contact, ids) or be none"
            )
        }
        var categories: Set<RedactionCategory> = []
        for item in items {
            guard let category = RedactionCategory(policyName: item) else {
                let shown =
                    item == "none"
                    ? "none (it cannot be combined with categories)" : String(item.prefix(32)).debugDescription
                throw CatalogError(
                    .invalidPolicy,
                    "unknown redaction category \(shown): use pci, bank, contact, ids or none"
                )
            }
            categories.insert(category)
        }
        self.init(categories: categories)
    }

    /// The column's text: nil when none (the default).
    public var columnText: String? { isEmpty ? nil : names.joined(separator: ",") }

    /// Reads the column's text leniently: nil is none, and a name this binary does not know (written by a
    /// newer one) is skipped, since this binary has no detector for it.
    public init(columnText: String?) {
        self.init(names: columnText.map { $0.split(separator: ",").map(String.init) } ?? [])
    }

    private init(names: [String]) {
        self.init(categories: Set(names.compactMap(RedactionCategory.init(policyName:))))
    }

    /// A list of policy names, read as leniently as the column.
    public init(from decoder: any Decoder) throws {
        self.init(names: try decoder.singleValueContainer().decode([String].self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(names)
    }
}

extension RedactionCategory {
    /// The name a tenant policy uses: `pci` for payment, else the raw value.
    public var policyName: String { self == .payment ? "pci" : rawValue }
}
