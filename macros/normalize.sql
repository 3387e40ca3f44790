{#- The dedup rules: when are two texts "the same"? Used by --var dedup=true (the same prompt and
    reply rated several times) and by the merge with the base set (duplicate_of_base). Edit here
    and both follow. Today two texts are the same when they differ only in
    - full-width and half-width forms: ＡＢＣ１２３！ is ABC123! (U+FF01-U+FF5E, like NFKC does),
    - white space: any run of white space (ideographic space U+3000 and NBSP included) is one
      space, and leading and trailing white space does not count.
    Case, punctuation such as 。 vs . and spaces between CJK characters still count. -#}
{% macro normalize_text(expr) -%}
trim(regexp_replace(
    translate({{ expr }},
        '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～' || {{ whitespace() }},
        '!"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~' || repeat(' ', 29)),
    ' +', ' ', 'g'))
{%- endmacro %}
