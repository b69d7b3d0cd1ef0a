// Self-contained HTML pages (engine/viz/html.hpp): base64 is RFC 4648's (its test vectors),
// text is escaped, and a picture becomes an <img> of a PNG data: URI at twice its size.
#include <doctest/doctest.h>

#include <string>

#include "nwgf/engine/viz/html.hpp"
#include "nwgf/engine/viz/picture.hpp"

using namespace nwgf;

namespace {

int count(const std::string& s, const std::string& what) {
  int n = 0;
  for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("html: base64 follows RFC 4648 (its section 10 vectors, and bytes >= 0x80)") {
  CHECK(base64("") == "");
  CHECK(base64("f") == "Zg==");
  CHECK(base64("fo") == "Zm8=");
  CHECK(base64("foo") == "Zm9v");
  CHECK(base64("foob") == "Zm9vYg==");
  CHECK(base64("fooba") == "Zm9vYmE=");
  CHECK(base64("foobar") == "Zm9vYmFy");
  CHECK(base64(std::string("\xff\xfe\x00\x80", 4)) == "//4AgA==");
  CHECK(base64("\x89PNG\r\n\x1a\n") == "iVBORw0KGgo=");
}

TEST_CASE("html: text is escaped; a picture is a PNG data: URI drawn at twice its size") {
  CHECK(html_escape("a < b && \"c\" > 'd'") ==
        "a &lt; b &amp;&amp; &quot;c&quot; &gt; &#39;d&#39;");
  HtmlPage page("runs/<x> & y");
  page.heading("config.toml");
  page.preformatted("scheme = \"backward\"\n");
  page.paragraph("n = 3 < 4");
  page.picture(Picture{30, 20, [](_cairo*) {}}, "a \"blank\" picture");
  const std::string s = page.str();
  CHECK(s.rfind("<!DOCTYPE html>\n", 0) == 0);
  CHECK(count(s, "<title>runs/&lt;x&gt; &amp; y</title>") == 1);
  CHECK(count(s, "<h1>runs/&lt;x&gt; &amp; y</h1>") == 1);
  CHECK(count(s, "<h2>config.toml</h2>") == 1);
  CHECK(count(s, "<pre>scheme = &quot;backward&quot;\n</pre>") == 1);
  CHECK(count(s, "<p>n = 3 &lt; 4</p>") == 1);
  CHECK(count(s,
              "<img width=\"30\" height=\"20\" alt=\"a &quot;blank&quot; picture\" "
              "src=\"data:image/png;base64,iVBORw0KGgo") == 1);
  // The image is the picture drawn at twice its size (IHDR: 60 x 40), byte for byte.
  const Picture blank{30, 20, [](_cairo*) {}};
  const std::string png =
      encode_picture(arrange(60, 40, {Placed{blank, 0, 0, 2}}), PictureFormat::png);
  CHECK(s.find(base64(png)) != std::string::npos);
  CHECK(png.substr(16, 8) == std::string("\0\0\0\x3c\0\0\0\x28", 8));
  CHECK(s.rfind("</html>\n") == s.size() - 8);
}
