import CallVaultModel

/// The frame of every page: the stylesheet and, where a page needs it, the one script (both
/// same-origin files: no inline style or script, as the CSP demands), a skip link, the navigation and
/// the signed-in operator with a sign-out form.
enum ConsoleLayout {
    /// - Parameter script: whether the page loads `/static/console.js` (only the call page needs it).
    static func page(title: String, session: ConsoleSession?, body: String, script: Bool = false) -> String {
        var nav = ""
        if let session {
            nav = """
                <header><nav aria-label="Main">
                <a href="/calls">Calls</a>
                <a href="/live">Live</a>
                <a href="/jobs">Jobs</a>
                <a href="/retention">Retention</a>
                <a href="/tenants">Tenants</a>
                \(session.account.administersAnyTenant ? "<a href=\"/subjects\">Subject requests</a>" : "")
                <a href="/audit">Audit log</a>
                </nav>
                <form method="post" action="/logout" class="signout">
                <input type="hidden" name="csrf" value="\(HTML.escape(session.csrfToken))">
                <span class="who">\(HTML.escape(session.account.name))</span>
                <button type="submit">Sign out</button>
                </form></header>
                """
        }
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTML.escape(title)) · CallVault</title>
            <link rel="stylesheet" href="/static/console.css">\(script ? "\n<script src=\"/static/console.js\" defer></script>" : "")
            </head>
            <body>
            <a class="skip" href="#main">Skip to content</a>
            \(nav)
            <main id="main">
            \(body)
            </main>
            </body>
            </html>
            """
    }
}

extension OperatorAccount {
    /// Whether the operator administers some tenant: the subject-requests link is shown only then.
    var administersAnyTenant: Bool { globalAdmin || roles.values.contains(.admin) }
}
