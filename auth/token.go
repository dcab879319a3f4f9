package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.etcd.io/bbolt"
)

// Token claims and limits.
const (
	// DefaultTokenTTL is how long a token stays valid after sign-in.
	DefaultTokenTTL = 24 * time.Hour

	tokenIssuer   = "hearth"
	tokenAudience = "hearth-local"
	tokenLeeway   = 30 * time.Second

	// maxTokenBytes bounds the input Verify parses. Hearth's own tokens are
	// about 400 bytes.
	maxTokenBytes = 4096
)

// Token is the result of a successful sign-in.
type Token struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
	Profile   Profile   `json:"profile"`
	// ChannelSecret is a random secret whose hash the token carries. A client
	// that sends the token in a cookie must also send this secret, which the
	// browser keeps where only Hearth's page can read it; see
	// Session.CheckChannel.
	ChannelSecret string `json:"-"`
}

// Session is what a verified token proves: who signs the request, which
// token it is, and whether the profile's data key is in memory.
type Session struct {
	Profile   Profile
	TokenID   string
	ExpiresAt time.Time
	// Locked is set when the profile's data key is not in memory, so the
	// profile's data cannot be read until its password is given again.
	Locked bool
	// channelHash is the hash of the token's channel secret.
	channelHash string
}

// CheckChannel reports whether secret is the channel secret issued with the
// session's token.
func (sess Session) CheckChannel(secret string) bool {
	if sess.channelHash == "" || secret == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(channelHash(secret)), []byte(sess.channelHash)) == 1
}

// channelHash returns the hash of a channel secret as tokens carry it.
func channelHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// claims are the JWT claims of a Hearth token. Role is informational: every
// request reads the role from the profile record instead.
type claims struct {
	jwt.RegisteredClaims
	Role    Role   `json:"role"`
	Version int    `json:"ver"`
	Channel string `json:"csh"`
}

// newTokenParser returns a parser that accepts only HS256 tokens from Hearth
// for Hearth, with an expiry, judged by the clock now. Strict decoding
// rejects base64 segments whose unused trailing bits are set, so that no
// other string verifies as the same token.
func newTokenParser(now func() time.Time) *jwt.Parser {
	return jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithStrictDecoding(),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(tokenIssuer),
		jwt.WithAudience(tokenAudience),
		jwt.WithLeeway(tokenLeeway),
		jwt.WithTimeFunc(now),
	)
}

// issueToken signs a token for rec with rec's own signing key. The header's
// kid names the profile so that Verify can pick the key before checking the
// signature. When the signing key cannot be unsealed, because the install
// key was replaced, the profile gets a new signing key; its older tokens stop
// working, which is what a lost install key means anyway.
func (s *Store) issueToken(rec *profileRecord) (Token, error) {
	key, err := s.installKey.OpenKey(rec.SigningKey, signingKeyAD(rec.ID))
	if err != nil {
		rec.TokenVersion++
		s.setSigningKey(rec)
		if err := s.replaceProfile(rec); err != nil {
			return Token{}, fmt.Errorf("replace signing key of %s: %w", rec.ID, err)
		}
		if key, err = s.installKey.OpenKey(rec.SigningKey, signingKeyAD(rec.ID)); err != nil {
			return Token{}, fmt.Errorf("unseal signing key of %s: %w", rec.ID, err)
		}
	}
	defer key.Wipe()

	now := s.now().UTC().Truncate(time.Second)
	expires := now.Add(s.tokenTTL)
	secret := base64.RawURLEncoding.EncodeToString(randomBytes(32))
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    tokenIssuer,
			Subject:   rec.ID,
			Audience:  jwt.ClaimStrings{tokenAudience},
			ExpiresAt: jwt.NewNumericDate(expires),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        base64.RawURLEncoding.EncodeToString(randomBytes(16)),
		},
		Role:    rec.Role,
		Version: rec.TokenVersion,
		Channel: channelHash(secret),
	})
	t.Header["kid"] = rec.ID
	signed, err := t.SignedString(key.Bytes())
	if err != nil {
		return Token{}, fmt.Errorf("sign token for %s: %w", rec.ID, err)
	}
	return Token{Token: signed, ExpiresAt: expires, Profile: rec.profile(), ChannelSecret: secret}, nil
}

// Verify checks a token and returns the session it proves, with the current
// state of its profile. Every failure returns ErrInvalidToken, whatever the
// cause: a bad signature, an unknown or deleted profile, an expired or
// revoked token, or a token version that has been raised since. A valid
// token for a locked profile is a Session with Locked set, not an error.
//
// Verify does not count as activity for the idle lock, because a request
// with a valid token may still fail a later check, such as the channel
// secret of a cookie. The caller calls Touch once the request has passed
// every check.
func (s *Store) Verify(ctx context.Context, token string) (Session, error) {
	if token == "" || len(token) > maxTokenBytes {
		return Session{}, ErrInvalidToken
	}

	// The key function reads the profile named by kid, so the record used to
	// check the version below is the one whose key verified the signature.
	// It also looks up the token's id among the revoked ones in the same
	// read transaction. The parser calls the key function after decoding
	// the claims and before checking the signature.
	var c claims
	var rec *profileRecord
	var signingKey []byte
	revoked := false
	keyFunc := func(t *jwt.Token) (any, error) {
		kid, ok := t.Header["kid"].(string)
		if !ok || kid == "" {
			return nil, ErrInvalidToken
		}
		err := s.db.View(func(tx *bbolt.Tx) error {
			var err error
			if rec, err = s.verified.getProfile(s, tx.Bucket(profilesBucket), kid); err != nil {
				return err
			}
			revoked = c.ID != "" && tx.Bucket(revokedBucket).Get([]byte(c.ID)) != nil
			return nil
		})
		if err != nil {
			return nil, ErrInvalidToken
		}
		key, err := s.installKey.OpenKey(rec.SigningKey, signingKeyAD(rec.ID))
		if err != nil {
			return nil, ErrInvalidToken
		}
		defer key.Wipe()
		signingKey = key.Bytes()
		return signingKey, nil
	}

	parsed, err := s.parser.ParseWithClaims(token, &c, keyFunc)
	clear(signingKey)
	if err != nil || !parsed.Valid || rec == nil || revoked {
		return Session{}, ErrInvalidToken
	}
	if c.Subject != rec.ID || c.Version != rec.TokenVersion || c.ID == "" {
		return Session{}, ErrInvalidToken
	}
	// Every token Hearth issues has all three times and lives at most
	// tokenTTL; a token that claims otherwise was not made here.
	if c.ExpiresAt == nil || c.IssuedAt == nil || c.NotBefore == nil || c.ExpiresAt.Sub(c.IssuedAt.Time) > s.tokenTTL {
		return Session{}, ErrInvalidToken
	}

	unlocked := s.unlocked.isUnlocked(rec.ID, s.now())
	return Session{Profile: rec.profile(), TokenID: c.ID, ExpiresAt: c.ExpiresAt.Time, Locked: !unlocked, channelHash: c.Channel}, nil
}
