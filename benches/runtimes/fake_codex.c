/*
 * fake_codex: a stand-in for `codex exec` that answers every stage at once.
 *
 * The same executable is given to every runtime in the benchmark. It reads
 * the stage prompt (the last positional argument, or stdin when there is
 * none or it is `-`), finds the first legal success marker listed in it (the
 * first `### NAME` that is neither `BLOCKED` nor a `*_RUNNING` status), and
 * answers with that marker line:
 *   - into `--output-last-message FILE` / `-o FILE` when given,
 *   - else into `$MILLRACE_LAST_MESSAGE_PATH` when set (our `command` runner),
 *   - else on stdout.
 * With `--json` it prints a minimal codex JSONL event stream on stdout,
 * ending with `turn.completed` and its `usage`.
 * With `$FAKE_CODEX_LOG` set it appends one line per invocation (the marker),
 * so a benchmark can count stage invocations independently of the runtime.
 * No marker found: a message on stderr and exit code 1.
 *
 * Written in C because a Python stand-in costs ~20 ms of interpreter start per
 * stage, more than the overhead being measured (see RESULTS.md).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* codex exec options that take a value (the next argument). */
static const char *VALUE_OPTIONS[] = {
    "--output-last-message", "-o", "--cd", "-C", "--model", "-m", "-c",
    "--config", "--profile", "-p", "--sandbox", "-s", "--color",
    "--output-schema", "--image", "-i", "--add-dir", "--enable", "--disable",
    "--local-provider", "--ask-for-approval", "-a", NULL};

static int takes_value(const char *arg) {
    for (const char **o = VALUE_OPTIONS; *o; o++)
        if (strcmp(arg, *o) == 0) return 1;
    return 0;
}

static char *read_all(int fd, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (n == cap) buf = realloc(buf, (cap *= 2) + 1);
        ssize_t r = read(fd, buf + n, cap - n);
        if (r <= 0) break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int is_name_char(char c) { return (c >= 'A' && c <= 'Z') || c == '_'; }

/* The first `### NAME` that is a legal success marker, copied into out. */
static int find_marker(const char *text, char *out, size_t cap) {
    for (const char *p = strstr(text, "###"); p; p = strstr(p + 3, "###")) {
        const char *s = p + 3;
        while (*s == ' ' || *s == '\t') s++;
        const char *e = s;
        while (is_name_char(*e)) e++;
        size_t n = (size_t)(e - s);
        if (n == 0 || n >= cap || (*e >= 'a' && *e <= 'z') || (*e >= '0' && *e <= '9'))
            continue;
        if (n == 7 && strncmp(s, "BLOCKED", 7) == 0) continue;
        if (n > 8 && strncmp(e - 8, "_RUNNING", 8) == 0) continue;
        memcpy(out, s, n);
        out[n] = '\0';
        return 1;
    }
    return 0;
}

static void write_file(const char *path, const char *text, int append) {
    int flags = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC);
    int fd = open(path, flags, 0644);
    if (fd < 0) { perror(path); exit(1); }
    size_t len = strlen(text);
    if (write(fd, text, len) != (ssize_t)len) { perror(path); exit(1); }
    close(fd);
}

int main(int argc, char **argv) {
    const char *last_message = NULL, *prompt = NULL;
    int json = 0, positional = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) json = 1;
        else if (strcmp(a, "--output-last-message") == 0 || strcmp(a, "-o") == 0) {
            if (i + 1 < argc) last_message = argv[++i];
        } else if (takes_value(a)) i++;
        else if (a[0] == '-' && a[1] != '\0') continue;
        else if (positional++ == 0 && (strcmp(a, "exec") == 0 || strcmp(a, "e") == 0)) continue;
        else prompt = a;
    }
    size_t prompt_len = 0;
    char *from_stdin = NULL;
    if (!prompt || strcmp(prompt, "-") == 0) prompt = from_stdin = read_all(0, &prompt_len);
    else prompt_len = strlen(prompt);

    char marker[128];
    if (!find_marker(prompt, marker, sizeof marker)) {
        fprintf(stderr, "fake_codex: no legal success marker in the prompt\n");
        return 1;
    }
    char message[160];
    snprintf(message, sizeof message, "### %s\n", marker);

    if (!last_message) last_message = getenv("MILLRACE_LAST_MESSAGE_PATH");
    if (last_message && *last_message) write_file(last_message, message, 0);
    else if (!json) fputs(message, stdout);

    if (json) {
        printf("{\"type\":\"thread.started\",\"thread_id\":\"fake-thread\"}\n"
               "{\"type\":\"turn.started\"}\n"
               "{\"type\":\"item.completed\",\"item\":{\"id\":\"item_0\","
               "\"type\":\"agent_message\",\"text\":\"### %s\"}}\n"
               "{\"type\":\"turn.completed\",\"usage\":{\"input_tokens\":%zu,"
               "\"cached_input_tokens\":0,\"output_tokens\":%zu,"
               "\"reasoning_output_tokens\":0}}\n",
               marker, prompt_len / 4 + 1, strlen(message) / 4 + 1);
    }
    const char *log = getenv("FAKE_CODEX_LOG");
    if (log && *log) write_file(log, message + 4, 1);
    free(from_stdin);
    return 0;
}
