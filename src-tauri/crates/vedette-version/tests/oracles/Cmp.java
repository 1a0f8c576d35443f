// Reads "a<TAB>b" lines on stdin; prints Maven's ComparableVersion order of
// a and b (-1, 0, 1) a line. Run as `java -cp maven-artifact.jar Cmp.java`.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import org.apache.maven.artifact.versioning.ComparableVersion;

public class Cmp {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
        StringBuilder out = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) {
            String[] p = line.split("\t", 2);
            int c = new ComparableVersion(p[0]).compareTo(new ComparableVersion(p[1]));
            out.append(Integer.signum(c)).append('\n');
        }
        System.out.print(out);
    }
}
