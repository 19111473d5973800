//! The canonical formatter: two-space indentation by brace depth, single
//! spaces between tokens, one blank line between items, comments kept.
//!
//! It works line by line on the token level, so it preserves everything the
//! author wrote except layout, and formatting twice changes nothing.

/// Formats `.loop` source text. The caller checks that it parses first.
pub fn format(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut depth = 0usize;
    let mut closed_item = false;
    for raw in text.lines() {
        let (code, comment) = split_comment(raw.trim());
        let tokens = tokenize(code);
        if tokens.is_empty() && comment.is_none() {
            push_blank(&mut lines);
            continue;
        }
        let opens = tokens.iter().filter(|t| *t == "{").count();
        let closes = tokens.iter().filter(|t| *t == "}").count();
        let leading_closes = tokens.iter().take_while(|t| *t == "}").count();
        depth = depth.saturating_sub(leading_closes);
        if closed_item && depth == 0 && lines.last().is_some_and(|l| !l.is_empty()) {
            lines.push(String::new());
        }
        if tokens.first().is_some_and(|t| t == "}") {
            drop_trailing_blanks(&mut lines);
        }
        lines.push(render_line(depth, &tokens, comment));
        depth = (depth + opens + leading_closes).saturating_sub(closes);
        closed_item = depth == 0 && closes > 0;
    }
    drop_trailing_blanks(&mut lines);
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

fn push_blank(lines: &mut Vec<String>) {
    let after_open = lines.last().is_some_and(|l| l.trim_end().ends_with('{'));
    if !lines.is_empty() && !after_open && lines.last().is_some_and(|l| !l.is_empty()) {
        lines.push(String::new());
    }
}

fn drop_trailing_blanks(lines: &mut Vec<String>) {
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
}

fn render_line(depth: usize, tokens: &[String], comment: Option<&str>) -> String {
    let mut line = "  ".repeat(depth);
    line.push_str(&join_tokens(tokens));
    if let Some(comment) = comment {
        if !tokens.is_empty() {
            line.push(' ');
        }
        line.push_str(comment);
    }
    line
}

/// Splits a line into code and a trailing `#` comment (not inside a string).
fn split_comment(line: &str) -> (&str, Option<&str>) {
    let mut in_string = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_string = !in_string,
            '#' if !in_string => return (line[..i].trim_end(), Some(line[i..].trim_end())),
            _ => {}
        }
    }
    (line, None)
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$')
}

fn tokenize(code: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut rest = code.trim_start();
    while let Some(c) = rest.chars().next() {
        let len = if c == '"' {
            rest[1..].find('"').map_or(rest.len(), |end| end + 2)
        } else if rest.starts_with("->") {
            2
        } else if is_word_char(c) {
            rest.find(|ch: char| !is_word_char(ch))
                .unwrap_or(rest.len())
        } else {
            c.len_utf8()
        };
        tokens.push(rest[..len].to_string());
        rest = rest[len..].trim_start();
    }
    tokens
}

fn join_tokens(tokens: &[String]) -> String {
    let mut out = String::new();
    for (i, token) in tokens.iter().enumerate() {
        let tight_before = matches!(token.as_str(), "," | ":" | ")" | ";");
        let after_open_paren = i > 0 && tokens[i - 1] == "(";
        if i > 0 && !tight_before && !after_open_paren {
            out.push(' ');
        }
        out.push_str(token);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::format;

    #[test]
    fn normalizes_layout_and_keeps_comments() {
        let messy =
            "loop   a.b{\n\n   entry task->x   # start\n  x {A->y,z}\n\n\n}\nmode m{loop a.b}\n";
        let expected =
            "loop a.b {\n  entry task -> x # start\n  x { A -> y, z }\n}\n\nmode m { loop a.b }\n";
        assert_eq!(format(messy), expected);
        assert_eq!(format(expected), expected);
    }
}
