//! The canonical formatter: two-space indentation by brace depth, single
//! spaces between tokens, one blank line between items, every comment kept
//! where it stood (on its own line, or trailing the code it followed).
//!
//! It works line by line on the token level, so it preserves everything the
//! author wrote except layout, and formatting twice changes nothing.

/// Formats `.loop` source text. The caller checks that it parses first.
pub fn format(text: &str) -> String {
    let mut formatter = Formatter::default();
    for raw in text.lines() {
        formatter.line(raw);
    }
    formatter.finish()
}

/// The lines written so far and where the next one stands.
#[derive(Default)]
struct Formatter {
    lines: Vec<String>,
    depth: usize,
    /// The last line closed a top-level item: the next one is set apart.
    closed_item: bool,
}

impl Formatter {
    /// One source line: a blank, a comment line, or code (which may become
    /// several lines, the trailing comment staying on the last).
    fn line(&mut self, raw: &str) {
        let (code, comment) = split_comment(raw.trim());
        let segments = split_blocks(tokenize(code));
        if segments.is_empty() {
            match comment {
                Some(comment) => self.emit(&[], Some(comment)),
                None => push_blank(&mut self.lines),
            }
            return;
        }
        let last = segments.len() - 1;
        for (i, tokens) in segments.iter().enumerate() {
            self.emit(tokens, comment.filter(|_| i == last));
        }
    }

    fn emit(&mut self, tokens: &[String], comment: Option<&str>) {
        let opens = tokens.iter().filter(|t| *t == "{").count();
        let closes = tokens.iter().filter(|t| *t == "}").count();
        let leading_closes = tokens.iter().take_while(|t| *t == "}").count();
        self.depth = self.depth.saturating_sub(leading_closes);
        let after_item = self.closed_item && self.depth == 0;
        if after_item && self.lines.last().is_some_and(|l| !l.is_empty()) {
            self.lines.push(String::new());
        }
        if leading_closes > 0 {
            drop_trailing_blanks(&mut self.lines);
        }
        self.lines.push(render_line(self.depth, tokens, comment));
        self.depth = (self.depth + opens + leading_closes).saturating_sub(closes);
        self.closed_item = self.depth == 0 && closes > 0;
    }

    fn finish(mut self) -> String {
        drop_trailing_blanks(&mut self.lines);
        let mut out = self.lines.join("\n");
        out.push('\n');
        out
    }
}

/// Splits a line's tokens so that a `{` left open ends its line and a `}`
/// closing an earlier line's block starts a line of its own.
fn split_blocks(tokens: Vec<String>) -> Vec<Vec<String>> {
    let mut segments = vec![Vec::new()];
    let mut open_here: Vec<usize> = Vec::new();
    for token in tokens {
        if token == "}" && open_here.pop().is_none() && !segments.last().is_some_and(Vec::is_empty)
        {
            segments.push(Vec::new());
        }
        let is_open = token == "{";
        if let Some(segment) = segments.last_mut() {
            segment.push(token);
        }
        if is_open {
            open_here.push(segments.len());
        }
    }
    let mut out = Vec::new();
    for segment in segments {
        split_unclosed(segment, &mut out);
    }
    out.retain(|s: &Vec<String>| !s.is_empty());
    out
}

/// Breaks after each `{` of a segment that is not closed within the segment.
fn split_unclosed(segment: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut balance = Vec::new();
    let mut depth = 0i32;
    for token in &segment {
        if token == "{" {
            depth += 1;
        } else if token == "}" {
            depth -= 1;
        }
        balance.push(depth);
    }
    let final_depth = depth;
    let mut current = Vec::new();
    for (token, after) in segment.into_iter().zip(balance) {
        let breaks = token == "{" && final_depth > 0 && after <= final_depth;
        current.push(token);
        if breaks {
            out.push(std::mem::take(&mut current));
        }
    }
    out.push(current);
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
        let split = "mode m { loop a.b\n  runner script }\n";
        assert_eq!(format(split), "mode m {\n  loop a.b\n  runner script\n}\n");
        assert_eq!(format(messy), expected);
        assert_eq!(format(expected), expected);
    }

    #[test]
    fn keeps_comment_lines_where_they_stand() {
        let text = "# header\n\nloop a.b {\n      # inside\n  entry task -> x\n  x {\n  # before a route\n    A -> y # why\n    # last\n  }\n}\n# after\nmode m { loop a.b }\n";
        let expected = "# header\n\nloop a.b {\n  # inside\n  entry task -> x\n  x {\n    # before a route\n    A -> y # why\n    # last\n  }\n}\n\n# after\nmode m { loop a.b }\n";
        assert_eq!(format(text), expected);
        assert_eq!(format(expected), expected);
    }
}
