package deenroll.support;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A certificate chain made by the test itself (a machine with only a JDK has
 * no openssl): a CA, a server certificate it signed for the name localhost
 * only (so 127.0.0.1 is a host name the certificate does not cover), and a
 * second CA of the same name that signed nothing, written as PEM files.
 */
public final class TestCertificates {

    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    public final Path rootCert;
    public final Path wrongRootCert;
    public final Path serverCert;
    public final Path serverKey;

    private TestCertificates(Path dir) throws IOException, GeneralSecurityException, OperatorCreationException {
        KeyPair caKey = keyPair();
        X500Name caName = new X500Name("CN=deenroll test CA");
        X509CertificateHolder ca = certificate(caName, caName, caKey, caKey, true, null);
        KeyPair otherKey = keyPair();
        X500Name otherName = new X500Name("CN=deenroll test CA");  // the same name, another key: only the signature tells
        X509CertificateHolder other = certificate(otherName, otherName, otherKey, otherKey, true, null);
        KeyPair serverKeyPair = keyPair();
        X509CertificateHolder server = certificate(caName, new X500Name("CN=localhost"), caKey, serverKeyPair, false,
                new GeneralNames(new GeneralName(GeneralName.dNSName, "localhost")));
        rootCert = write(dir.resolve("root.crt"), ca);
        wrongRootCert = write(dir.resolve("wrong-root.crt"), other);
        serverCert = write(dir.resolve("server.crt"), server);
        serverKey = write(dir.resolve("server.key"), serverKeyPair.getPrivate());
        // PostgreSQL refuses a key file that others may read
        Files.setPosixFilePermissions(serverKey, PosixFilePermissions.fromString("rw-------"));
    }

    public static TestCertificates in(Path dir) {
        try {
            return new TestCertificates(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static KeyPair keyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        return generator.generateKeyPair();
    }

    private static X509CertificateHolder certificate(X500Name issuer, X500Name subject, KeyPair issuerKey,
                                                     KeyPair subjectKey, boolean ca, GeneralNames names)
            throws IOException, OperatorCreationException {
        Instant now = Instant.now();
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuer,
                BigInteger.valueOf(SERIAL.incrementAndGet()), Date.from(now.minus(Duration.ofHours(1))),
                Date.from(now.plus(Duration.ofDays(1))), subject, subjectKey.getPublic());
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        builder.addExtension(Extension.keyUsage, true, ca
                ? new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign)
                : new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
        if (names != null) {
            builder.addExtension(Extension.subjectAlternativeName, false, names);
        }
        ContentSigner signer = new JcaContentSignerBuilder("SHA256withRSA").build(issuerKey.getPrivate());
        return builder.build(signer);
    }

    private static Path write(Path file, Object pemObject) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter pem = new JcaPEMWriter(text)) {
            pem.writeObject(pemObject);
        }
        return Files.writeString(file, text.toString());
    }
}
