// SPDX-License-Identifier: MIT
/*
 * Output: JSON as json-c prints it, or aligned text tables built from the
 * very same objects (numbers right-aligned, a missing value shown as "-").
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define COLUMN_GAP "  "
/* bold red, and back */
#define HIGHLIGHT_ON "\033[1;31m"
#define HIGHLIGHT_OFF "\033[0m"

void print_json(json_object *obj, bool one_line)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE | JSON_C_TO_STRING_SPACED |
		    (one_line ? 0 : JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_PRETTY_TAB);

	puts(json_object_to_json_string_ext(obj, flags));
	cli_flush();
}

/* The member @key names in @row; "a|b" takes the first that is present. */
static json_object *lookup(json_object *row, const char *key)
{
	char name[64];

	while (*key) {
		size_t n = strcspn(key, "|");
		json_object *val;

		snprintf(name, sizeof(name), "%.*s", (int)n, key);
		if (json_object_object_get_ex(row, name, &val))
			return val;
		key += n + (key[n] == '|');
	}
	return NULL;
}

static const char *cell_text(json_object *val)
{
	if (!val || json_object_is_type(val, json_type_null))
		return "-";
	if (json_object_is_type(val, json_type_boolean))
		return json_object_get_boolean(val) ? "yes" : "no";
	return json_object_get_string(val);
}

static bool right_aligned(json_object *val)
{
	return json_object_is_type(val, json_type_int) ||
	       json_object_is_type(val, json_type_double);
}

void print_table(const char *indent, json_object *rows,
		 const struct column *cols, size_t ncols, bool highlight)
{
	size_t nrows = json_object_array_length(rows);
	size_t width[ncols];

	for (size_t c = 0; c < ncols; c++) {
		width[c] = strlen(cols[c].header);
		for (size_t r = 0; r < nrows; r++) {
			json_object *row = json_object_array_get_idx(rows, r);
			size_t n = strlen(cell_text(lookup(row, cols[c].key)));

			if (n > width[c])
				width[c] = n;
		}
	}
	fputs(indent, stdout);
	for (size_t c = 0; c < ncols; c++)
		printf("%s%-*s", c ? COLUMN_GAP : "",
		       c + 1 < ncols ? (int)width[c] : 0, cols[c].header);
	putchar('\n');
	for (size_t r = 0; r < nrows; r++) {
		json_object *row = json_object_array_get_idx(rows, r);
		bool marked = highlight && *member_str(row, "alert");

		fputs(indent, stdout);
		if (marked)
			fputs(HIGHLIGHT_ON, stdout);
		for (size_t c = 0; c < ncols; c++) {
			json_object *val = lookup(row, cols[c].key);
			bool last = c + 1 == ncols;
			/* the last column is left unpadded: no trailing blanks */
			int w = right_aligned(val) ? (int)width[c]
				: last		   ? 0
						   : -(int)width[c];

			printf("%s%*s", c ? COLUMN_GAP : "", w, cell_text(val));
		}
		if (marked)
			fputs(HIGHLIGHT_OFF, stdout);
		putchar('\n');
	}
}

void print_rows(const struct cli *cli, json_object *rows,
		const struct column *cols, size_t ncols)
{
	if (cli->json)
		print_json(rows, false);
	else
		print_table("", rows, cols, ncols, false);
	cli_flush();
}

/* @depth levels of indentation (two spaces each) into @buf. */
static const char *indentation(char *buf, size_t size, int depth)
{
	size_t n = 2 * (size_t)depth < size ? 2 * (size_t)depth : size - 1;

	memset(buf, ' ', n);
	buf[n] = '\0';
	return buf;
}

/* A table of every member of the first row, headed by the names in capitals. */
static void print_nested_table(const char *indent, json_object *rows)
{
	json_object *first = json_object_array_get_idx(rows, 0);
	size_t ncols = json_object_object_length(first), c = 0;
	struct column cols[ncols];
	char headers[ncols][64];

	json_object_object_foreach(first, key, val) {
		size_t i;

		(void)val;
		for (i = 0; key[i] && i + 1 < sizeof(headers[c]); i++)
			headers[c][i] = (char)toupper((unsigned char)key[i]);
		headers[c][i] = '\0';
		cols[c] = (struct column){ headers[c], key };
		c++;
	}
	print_table(indent, rows, cols, ncols, false);
}

static void print_members(json_object *obj, int depth)
{
	char indent[32], deeper[32];
	int width = 0;

	indentation(indent, sizeof(indent), depth);
	indentation(deeper, sizeof(deeper), depth + 1);
	/* a block of its own: the macro declares its variables outside */
	{
		json_object_object_foreach(obj, name, val) {
			(void)val;
			if ((int)strlen(name) > width)
				width = (int)strlen(name);
		}
	}
	json_object_object_foreach(obj, key, val) {
		if (json_object_is_type(val, json_type_object)) {
			printf("%s%s:%s\n", indent, key,
			       json_object_object_length(val) ? "" : " -");
			print_members(val, depth + 1);
		} else if (json_object_is_type(val, json_type_array)) {
			printf("%s%s:%s\n", indent, key,
			       json_object_array_length(val) ? "" : " -");
			if (json_object_array_length(val))
				print_nested_table(deeper, val);
		} else {
			printf("%s%-*s  %s\n", indent, width, key,
			       cell_text(val));
		}
	}
}

void print_object(const struct cli *cli, json_object *obj)
{
	if (cli->json)
		print_json(obj, false);
	else
		print_members(obj, 0);
	cli_flush();
}

char *hex_string(const void *data, size_t len, const char *sep)
{
	const unsigned char *bytes = data;
	size_t step = 2 + strlen(sep);
	char *out = malloc(len * step + 1), *p = out;

	if (!out)
		return NULL;
	*p = '\0';
	for (size_t i = 0; i < len; i++)
		p += sprintf(p, "%s%02x", i ? sep : "", bytes[i]);
	return out;
}
